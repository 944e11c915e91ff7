"""An echo server written the way Chalice's documentation writes WebSocket
apps: decorated functions, and replies through `app.websocket_api.send`,
which posts to `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`.
papo serve runs it unmodified (`template.yaml` maps its routes the way
`chalice package` does).

A message is echoed back to its sender; `{"to": ID, "message": TEXT}` sends
TEXT to connection ID instead, and tells the sender when ID has gone.
"""

import json

from boto3.session import Session
from chalice import Chalice, WebsocketDisconnectedError

app = Chalice(app_name="papo-echo")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api.session = Session()


@app.on_ws_connect()
def connect(event):
    print("New connection: %s" % event.connection_id)


@app.on_ws_message()
def message(event):
    to, text = event.connection_id, event.body
    if event.body.startswith("{"):
        to, text = event.json_body["to"], event.json_body["message"]
    try:
        app.websocket_api.send(to, text)
    except WebsocketDisconnectedError as e:
        app.websocket_api.send(event.connection_id, json.dumps({"gone": e.connection_id}))


@app.on_ws_disconnect()
def disconnect(event):
    print("%s disconnected" % event.connection_id)
