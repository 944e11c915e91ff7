"""What papo says to people, in English and Brazilian Portuguese.

System messages keep the course's wording; every error pairs a sentence from
here with a stable machine code (see `papo.protocol.ErrorCode`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from papo.protocol import ErrorCode

ENGLISH = "en"
PORTUGUESE = "pt-BR"
LANGUAGES = (ENGLISH, PORTUGUESE)

_SYSTEM: Mapping[str, Mapping[str, str]] = {
    ENGLISH: {
        "joined": "{name} joined the chat",
        "left": "{name} left the chat",
        "renamed": "{previous} is now {name}",
    },
    PORTUGUESE: {
        "joined": "{name} acabou de entrar.",
        "left": "{name} saiu.",
        "renamed": "{previous} agora se chama {name}.",
    },
}

_ERRORS: Mapping[str, Mapping[ErrorCode, str]] = {
    ENGLISH: {
        ErrorCode.INVALID_JSON: "That frame is not JSON. Send an object such as "
        '{{"action": "sendPublic", "message": "hi"}}.',
        ErrorCode.NOT_AN_OBJECT: 'A frame must be a JSON object with an "action" field.',
        ErrorCode.UNKNOWN_ACTION: "There is no action {action}. The actions are: {actions}.",
        ErrorCode.MISSING_FIELD: '{action} needs a "{field}" field.',
        ErrorCode.INVALID_FIELD: 'The "{field}" field of {action} must be text.',
        ErrorCode.NAME_EMPTY: "A name cannot be empty.",
        ErrorCode.NAME_TOO_LONG: "A name can have at most {limit} characters.",
        ErrorCode.NAME_INVALID_CHARACTERS: "A name cannot contain control characters "
        "or line breaks.",
        ErrorCode.NAME_RESERVED: "The name {name} is reserved. Please choose another.",
        ErrorCode.NAME_TAKEN: "The name {name} is already taken. Please choose another.",
        ErrorCode.NOT_JOINED: "Choose a name with setName before sending messages.",
        ErrorCode.MESSAGE_EMPTY: "A message cannot be empty.",
        ErrorCode.MESSAGE_TOO_LONG: "A message can have at most {limit} characters.",
        ErrorCode.UNKNOWN_RECIPIENT: "Nobody named {name} is in the chat.",
        ErrorCode.BOT_UNAVAILABLE: "The bot is not available yet.",
        ErrorCode.NOT_CONNECTED: "This connection is no longer known. Please reconnect.",
    },
    PORTUGUESE: {
        ErrorCode.INVALID_JSON: "Essa mensagem não é JSON. Envie um objeto como "
        '{{"action": "sendPublic", "message": "oi"}}.',
        ErrorCode.NOT_AN_OBJECT: 'Uma mensagem deve ser um objeto JSON com o campo "action".',
        ErrorCode.UNKNOWN_ACTION: "A ação {action} não existe. As ações são: {actions}.",
        ErrorCode.MISSING_FIELD: '{action} precisa do campo "{field}".',
        ErrorCode.INVALID_FIELD: 'O campo "{field}" de {action} deve ser texto.',
        ErrorCode.NAME_EMPTY: "O nome não pode ficar vazio.",
        ErrorCode.NAME_TOO_LONG: "O nome pode ter no máximo {limit} caracteres.",
        ErrorCode.NAME_INVALID_CHARACTERS: "O nome não pode ter caracteres de controle "
        "nem quebras de linha.",
        ErrorCode.NAME_RESERVED: "O nome {name} é reservado. Escolha outro.",
        ErrorCode.NAME_TAKEN: "O nome {name} já está em uso. Escolha outro.",
        ErrorCode.NOT_JOINED: "Escolha um nome com setName antes de enviar mensagens.",
        ErrorCode.MESSAGE_EMPTY: "A mensagem não pode ficar vazia.",
        ErrorCode.MESSAGE_TOO_LONG: "A mensagem pode ter no máximo {limit} caracteres.",
        ErrorCode.UNKNOWN_RECIPIENT: "Ninguém chamado {name} está no chat.",
        ErrorCode.BOT_UNAVAILABLE: "O bot ainda não está disponível.",
        ErrorCode.NOT_CONNECTED: "Esta conexão não é mais conhecida. Reconecte-se.",
    },
}


@dataclass(frozen=True, slots=True)
class Texts:
    """The sentences of one language."""

    language: str = ENGLISH

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown language {self.language!r}; use one of {LANGUAGES}")

    def joined(self, name: str) -> str:
        return _SYSTEM[self.language]["joined"].format(name=name)

    def left(self, name: str) -> str:
        return _SYSTEM[self.language]["left"].format(name=name)

    def renamed(self, previous: str, name: str) -> str:
        return _SYSTEM[self.language]["renamed"].format(previous=previous, name=name)

    def error(self, code: ErrorCode, **details: object) -> str:
        return _ERRORS[self.language][code].format(**details)
