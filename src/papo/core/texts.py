"""What papo says to people, in English and Brazilian Portuguese.

System messages keep the course's wording; every error pairs a sentence from
here with a stable machine code (see `papo.core.protocol.ErrorCode`).
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from papo.core.refusals import ErrorCode, Refusal

ENGLISH = "en"
PORTUGUESE = "pt-BR"
LANGUAGES = (ENGLISH, PORTUGUESE)

_SYSTEM: Mapping[str, Mapping[str, str]] = {
    ENGLISH: {
        "joined": "{name} joined the chat",
        "left": "{name} left the chat",
        "renamed": "{previous} is now {name}",
        "bot_reset": "{name} started a new conversation with the bot",
        "moved": "{name} is now on another device",
        "bot_interrupted": "[answer interrupted]",
        "bot_stopped": "[stopped by {name}]",
        "bot_flagged": "[stopped: moderation flagged the rest of this answer]",
        "bot_failed": "Sorry, I could not answer {name}'s question: {reason}",
        "deleted": "(message deleted)",
    },
    PORTUGUESE: {
        "joined": "{name} acabou de entrar.",
        "left": "{name} saiu.",
        "renamed": "{previous} agora se chama {name}.",
        "bot_reset": "{name} começou uma nova conversa com o bot.",
        "moved": "{name} agora está em outro dispositivo.",
        "bot_interrupted": "[resposta interrompida]",
        "bot_stopped": "[interrompida por {name}]",
        "bot_flagged": "[interrompida: a moderação barrou o resto desta resposta]",
        "bot_failed": "Desculpe, não consegui responder à pergunta de {name}: {reason}",
        "deleted": "(mensagem apagada)",
    },
}

_ERRORS: Mapping[str, Mapping[ErrorCode, str]] = {
    ENGLISH: {
        ErrorCode.INVALID_JSON: "That frame is not JSON. Send an object such as "
        '{{"action": "sendPublic", "message": "hi"}}.',
        ErrorCode.NOT_AN_OBJECT: 'A frame must be a JSON object with an "action" field.',
        ErrorCode.UNKNOWN_ACTION: "There is no action {action}. The actions are: {actions}.",
        ErrorCode.MISSING_FIELD: '{action} needs a "{field}" field.',
        ErrorCode.INVALID_FIELD: 'The "{field}" field of {action} must be {expected}.',
        ErrorCode.NAME_EMPTY: "A name cannot be empty, nor only blanks and invisible characters.",
        ErrorCode.NAME_NO_LETTERS: "A name needs at least one letter or digit.",
        ErrorCode.NAME_TOO_LONG: "A name can have at most {limit} characters.",
        ErrorCode.NAME_INVALID_CHARACTERS: "A name cannot contain control or invisible "
        "formatting characters, nor line breaks.",
        ErrorCode.NAME_HAS_COLON: "A name cannot contain a colon: in the chat it would make "
        "your messages look like someone else's.",
        ErrorCode.NAME_MIXED_SCRIPTS: "A name cannot mix alphabets that way (such as Latin "
        "and Cyrillic letters): it could pass for someone else's.",
        ErrorCode.NAME_RESERVED: "The name {name} is reserved, or looks too much like a "
        "reserved one. Please choose another.",
        ErrorCode.NAME_CONFUSABLE: "The name {name} looks too much like {holder}, who is "
        "already here. Please choose another.",
        ErrorCode.NAME_OWNED: "The name {name} belongs to someone else. Please choose another.",
        ErrorCode.NAME_BOUND: "Your invitation is for the name {name}: join under that name.",
        ErrorCode.NAME_TAKEN: "The name {name} is already taken. Please choose another.",
        ErrorCode.TAKEN_OVER: "{name} joined on another device, so this one left the chat. "
        "If that was not you, tell whoever let you in.",
        ErrorCode.NOT_JOINED: "Choose a name with setName before sending messages.",
        ErrorCode.MESSAGE_EMPTY: "A message cannot be empty, nor only blanks and invisible "
        "characters.",
        ErrorCode.MESSAGE_INVALID_CHARACTERS: "A message cannot contain control characters "
        "other than tabs and line breaks.",
        ErrorCode.MESSAGE_TOO_LONG: "A message can have at most {limit} characters.",
        ErrorCode.UNKNOWN_RECIPIENT: "Nobody named {name} is in the chat.",
        ErrorCode.NOT_CONNECTED: "This connection is no longer known. Please reconnect.",
        ErrorCode.RESUME_INVALID: "That resume token is wrong, expired, or not for the name "
        "{name}. Join again with setName.",
        ErrorCode.QUESTION_TOO_LONG: "A question to the bot can have at most {limit} characters.",
        ErrorCode.RATE_LIMITED: "You are sending too fast: at most {burst} messages in "
        "{window} s and {per_minute} a minute. Try again in {wait}.",
        ErrorCode.BOT_NOT_CONFIGURED: "The bot is not configured: it needs an OpenAI API key. "
        "Whoever runs papo can set OPENAI_API_KEY (or put it in a .env file) and restart "
        "papo serve; on AWS, store it in SSM Parameter Store or Secrets Manager and name it "
        "in PAPO_OPENAI_KEY_PARAMETER or PAPO_OPENAI_KEY_SECRET.",
        ErrorCode.BOT_BUSY: "The bot is still answering your last question. "
        "Ask again when it has finished.",
        ErrorCode.BOT_RATE_LIMITED: "You can ask the bot {limit} questions a minute. "
        "Try again in {wait}.",
        ErrorCode.BOT_BUDGET_EXHAUSTED: "The bot has used up today's budget for this room. "
        "Try again in {wait}.",
        ErrorCode.BOT_UNAVAILABLE: "The bot could not start answering. Please try again.",
        ErrorCode.BOT_UPSTREAM_UNAUTHORIZED: "The AI service refused papo's API key. "
        "Whoever runs papo should check it.",
        ErrorCode.BOT_UPSTREAM_RATE_LIMITED: "The AI service is busy. Try again in {wait}.",
        ErrorCode.BOT_UPSTREAM_REFUSED: "The AI service refused the question "
        "(the model or a setting may be wrong).",
        ErrorCode.BOT_UPSTREAM_FAILED: "The AI service had an error. Please try again.",
        ErrorCode.BOT_TIMEOUT: "The AI service took too long to answer. Please try again.",
        ErrorCode.BOT_INTERRUPTED: "The AI service stopped in the middle of the answer. "
        "Please try again.",
        ErrorCode.LINE_NOT_FOUND: "There is no message {line} in this room: it never was, "
        "is no longer kept, or was deleted.",
        ErrorCode.NOT_YOUR_LINE: "You can edit or delete only your own messages.",
        ErrorCode.EDIT_WINDOW_CLOSED: "A message can be edited only within {minutes} min of "
        "sending it.",
        ErrorCode.REACTION_NOT_EMOJI: "A reaction is one emoji.",
        ErrorCode.REACTIONS_FULL: "A message can have at most {limit} different reactions.",
        ErrorCode.UNKNOWN_OFFSET: "There is no line {offset} in this room: its newest is {newest}.",
        ErrorCode.NO_READER: "papo keeps how far you have read for a session that can resume: "
        'join with "resume": true (or signed in) first.',
        ErrorCode.UNKNOWN_ANSWER: "There is no such answer of the bot in this room.",
        ErrorCode.NOT_YOUR_ANSWER: "Only {name}, who asked, can stop that answer or ask again.",
        ErrorCode.ANSWER_ENDED: "That answer has already ended.",
        ErrorCode.NOTHING_TO_CATCH_UP: "Nothing was said in the room since then.",
        ErrorCode.BOT_PERSON_BUDGET_EXHAUSTED: "You have used your {limit} tokens of the bot "
        "for today. Try again in {wait}, when the day ends (00:00 UTC).",
        ErrorCode.QUESTION_FLAGGED: "The bot will not take that question: the moderation "
        "check flagged it.",
        ErrorCode.MESSAGE_FLAGGED: "That message was not sent: the moderation check flagged it.",
        ErrorCode.ANSWER_FLAGGED: "The bot's answer was stopped: the moderation check flagged it.",
        ErrorCode.NOT_ROOM_OWNER: "Only the room's owners can change its bot.",
        ErrorCode.MODEL_NOT_ALLOWED: "The model {model} is not allowed here. "
        "Choose one of: {models}.",
    },
    PORTUGUESE: {
        ErrorCode.INVALID_JSON: "Essa mensagem não é JSON. Envie um objeto como "
        '{{"action": "sendPublic", "message": "oi"}}.',
        ErrorCode.NOT_AN_OBJECT: 'Uma mensagem deve ser um objeto JSON com o campo "action".',
        ErrorCode.UNKNOWN_ACTION: "A ação {action} não existe. As ações são: {actions}.",
        ErrorCode.MISSING_FIELD: '{action} precisa do campo "{field}".',
        ErrorCode.INVALID_FIELD: 'O campo "{field}" de {action} deve ser {expected}.',
        ErrorCode.NAME_EMPTY: "O nome não pode ficar vazio, nem ter só espaços e caracteres "
        "invisíveis.",
        ErrorCode.NAME_NO_LETTERS: "O nome precisa de pelo menos uma letra ou um algarismo.",
        ErrorCode.NAME_TOO_LONG: "O nome pode ter no máximo {limit} caracteres.",
        ErrorCode.NAME_INVALID_CHARACTERS: "O nome não pode ter caracteres de controle nem "
        "de formatação invisíveis, nem quebras de linha.",
        ErrorCode.NAME_HAS_COLON: "O nome não pode ter dois-pontos: no chat, suas mensagens "
        "pareceriam ser de outra pessoa.",
        ErrorCode.NAME_MIXED_SCRIPTS: "O nome não pode misturar alfabetos assim (como letras "
        "latinas e cirílicas): poderia se passar pelo de outra pessoa.",
        ErrorCode.NAME_RESERVED: "O nome {name} é reservado, ou parecido demais com um "
        "reservado. Escolha outro.",
        ErrorCode.NAME_CONFUSABLE: "O nome {name} é parecido demais com {holder}, que já "
        "está aqui. Escolha outro.",
        ErrorCode.NAME_OWNED: "O nome {name} pertence a outra pessoa. Escolha outro.",
        ErrorCode.NAME_BOUND: "Seu convite é para o nome {name}: entre com esse nome.",
        ErrorCode.NAME_TAKEN: "O nome {name} já está em uso. Escolha outro.",
        ErrorCode.TAKEN_OVER: "{name} entrou em outro dispositivo, então este saiu do chat. "
        "Se não foi você, avise quem te deu acesso.",
        ErrorCode.NOT_JOINED: "Escolha um nome com setName antes de enviar mensagens.",
        ErrorCode.MESSAGE_EMPTY: "A mensagem não pode ficar vazia, nem ter só espaços e "
        "caracteres invisíveis.",
        ErrorCode.MESSAGE_INVALID_CHARACTERS: "A mensagem não pode ter caracteres de controle, "
        "a não ser tabulações e quebras de linha.",
        ErrorCode.MESSAGE_TOO_LONG: "A mensagem pode ter no máximo {limit} caracteres.",
        ErrorCode.UNKNOWN_RECIPIENT: "Ninguém chamado {name} está no chat.",
        ErrorCode.NOT_CONNECTED: "Esta conexão não é mais conhecida. Reconecte-se.",
        ErrorCode.RESUME_INVALID: "Esse token de retomada está errado, expirou ou não é do "
        "nome {name}. Entre de novo com setName.",
        ErrorCode.QUESTION_TOO_LONG: "Uma pergunta ao bot pode ter no máximo {limit} caracteres.",
        ErrorCode.RATE_LIMITED: "Você está enviando rápido demais: no máximo {burst} mensagens "
        "em {window} s e {per_minute} por minuto. Tente de novo em {wait}.",
        ErrorCode.BOT_NOT_CONFIGURED: "O bot não está configurado: falta uma chave da API da "
        "OpenAI. Quem roda o papo pode definir OPENAI_API_KEY (ou colocá-la num arquivo .env) "
        "e reiniciar o papo serve; na AWS, guarde-a no SSM Parameter Store ou no Secrets "
        "Manager e informe-a em PAPO_OPENAI_KEY_PARAMETER ou PAPO_OPENAI_KEY_SECRET.",
        ErrorCode.BOT_BUSY: "O bot ainda está respondendo à sua última pergunta. "
        "Pergunte de novo quando ele terminar.",
        ErrorCode.BOT_RATE_LIMITED: "Você pode fazer {limit} perguntas por minuto ao bot. "
        "Tente de novo em {wait}.",
        ErrorCode.BOT_BUDGET_EXHAUSTED: "O bot já usou o orçamento de hoje desta sala. "
        "Tente de novo em {wait}.",
        ErrorCode.BOT_UNAVAILABLE: "O bot não conseguiu começar a responder. Tente de novo.",
        ErrorCode.BOT_UPSTREAM_UNAUTHORIZED: "O serviço de IA recusou a chave de API do papo. "
        "Quem roda o papo deve verificá-la.",
        ErrorCode.BOT_UPSTREAM_RATE_LIMITED: "O serviço de IA está ocupado. "
        "Tente de novo em {wait}.",
        ErrorCode.BOT_UPSTREAM_REFUSED: "O serviço de IA recusou a pergunta "
        "(o modelo ou alguma configuração pode estar errado).",
        ErrorCode.BOT_UPSTREAM_FAILED: "O serviço de IA teve um erro. Tente de novo.",
        ErrorCode.BOT_TIMEOUT: "O serviço de IA demorou demais para responder. Tente de novo.",
        ErrorCode.BOT_INTERRUPTED: "O serviço de IA parou no meio da resposta. Tente de novo.",
        ErrorCode.LINE_NOT_FOUND: "Não há mensagem {line} nesta sala: ela nunca existiu, não "
        "está mais guardada ou foi apagada.",
        ErrorCode.NOT_YOUR_LINE: "Você só pode editar ou apagar as suas próprias mensagens.",
        ErrorCode.EDIT_WINDOW_CLOSED: "Uma mensagem só pode ser editada até {minutes} min "
        "depois de enviada.",
        ErrorCode.REACTION_NOT_EMOJI: "Uma reação é um único emoji.",
        ErrorCode.REACTIONS_FULL: "Uma mensagem pode ter no máximo {limit} reações diferentes.",
        ErrorCode.UNKNOWN_OFFSET: "Não há linha {offset} nesta sala: a mais nova é {newest}.",
        ErrorCode.NO_READER: "O papo guarda até onde você leu para uma sessão que pode ser "
        'retomada: entre com "resume": true (ou com login) antes.',
        ErrorCode.UNKNOWN_ANSWER: "Não há essa resposta do bot nesta sala.",
        ErrorCode.NOT_YOUR_ANSWER: "Só {name}, que perguntou, pode interromper essa resposta "
        "ou pedir outra.",
        ErrorCode.ANSWER_ENDED: "Essa resposta já terminou.",
        ErrorCode.NOTHING_TO_CATCH_UP: "Ninguém disse nada na sala desde então.",
        ErrorCode.BOT_PERSON_BUDGET_EXHAUSTED: "Você já usou seus {limit} tokens do bot hoje. "
        "Tente de novo em {wait}, quando o dia acaba (00:00 UTC).",
        ErrorCode.QUESTION_FLAGGED: "O bot não vai responder a essa pergunta: a moderação "
        "a barrou.",
        ErrorCode.MESSAGE_FLAGGED: "Essa mensagem não foi enviada: a moderação a barrou.",
        ErrorCode.ANSWER_FLAGGED: "A resposta do bot foi interrompida: a moderação a barrou.",
        ErrorCode.NOT_ROOM_OWNER: "Só os donos da sala podem mudar o bot dela.",
        ErrorCode.MODEL_NOT_ALLOWED: "O modelo {model} não é permitido aqui. "
        "Escolha um destes: {models}.",
    },
}


_SIGNED_IN: Mapping[str, Mapping[ErrorCode, str]] = {
    ENGLISH: {
        ErrorCode.NAME_BOUND: "You signed in as {name}: join under that name.",
    },
    PORTUGUESE: {
        ErrorCode.NAME_BOUND: "Você entrou como {name}: entre com esse nome.",
    },
}
"""What a refusal says instead to someone let in signed in (OpenID Connect,
`access_mode` detail `oidc`) rather than by an invitation."""

_EXPECTED: dict[str, dict[str, str]] = {
    ENGLISH: {
        "text": "text",
        "number": "a whole number from 0 to {most}",
        "resume": 'true, or an object with the "token" papo gave',
        "language": "one of " + ", ".join(LANGUAGES),
        "switch": "true or false",
        "state": 'either "here" or "away"',
        "rooms": "an object from room names to their resume tokens (or null), at most {most} rooms",
    },
    PORTUGUESE: {
        "text": "texto",
        "number": "um número inteiro de 0 a {most}",
        "resume": 'true, ou um objeto com o "token" que o papo deu',
        "language": "um destes: " + ", ".join(LANGUAGES),
        "switch": "true ou false",
        "state": '"here" ou "away"',
        "rooms": "um objeto de nomes de salas para seus tokens de retomada (ou null), "
        "no máximo {most} salas",
    },
}
"""What an INVALID_FIELD refusal says its field must be, by its `expected` detail."""


class Texts(msgspec.Struct, frozen=True):
    """The sentences of one language."""

    language: str = ENGLISH

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown language {self.language!r}; use one of {LANGUAGES}")

    def joined(self, name: str) -> str:
        return _SYSTEM[self.language]["joined"].format(name=name)

    def moved(self, name: str) -> str:
        return _SYSTEM[self.language]["moved"].format(name=name)

    def left(self, name: str) -> str:
        return _SYSTEM[self.language]["left"].format(name=name)

    def renamed(self, previous: str, name: str) -> str:
        return _SYSTEM[self.language]["renamed"].format(previous=previous, name=name)

    def bot_reset(self, name: str) -> str:
        return _SYSTEM[self.language]["bot_reset"].format(name=name)

    def bot_interrupted(self) -> str:
        return _SYSTEM[self.language]["bot_interrupted"]

    def deleted(self) -> str:
        """What stands in place of a deleted message."""
        return _SYSTEM[self.language]["deleted"]

    def bot_stopped(self, name: str) -> str:
        return _SYSTEM[self.language]["bot_stopped"].format(name=name)

    def bot_flagged(self) -> str:
        return _SYSTEM[self.language]["bot_flagged"]

    def bot_failed(self, asker: str, reason: Refusal) -> str:
        return _SYSTEM[self.language]["bot_failed"].format(name=asker, reason=self.refusal(reason))

    def refusal(self, refusal: Refusal) -> str:
        """The sentence for a refusal, with how long to wait where that helps."""
        wait = self.duration(refusal.retry_after_s or 1)
        details = dict(refusal.details)
        if "expected" in details:
            expected = _EXPECTED[self.language][str(details["expected"])]
            details["expected"] = expected.format(**details)
        access_mode = details.pop("access_mode", None)
        signed_in = _SIGNED_IN[self.language] if access_mode == "oidc" else {}
        sentence = signed_in.get(refusal.code) or _ERRORS[self.language][refusal.code]
        return sentence.format(wait=wait, **details)

    def duration(self, seconds: int) -> str:
        """A wait in words: `45 s`, `3 min`, `2 h 5 min`."""
        if seconds < 60:
            return f"{max(seconds, 1)} s"
        minutes = -(-seconds // 60)
        if minutes < 60:
            return f"{minutes} min"
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
