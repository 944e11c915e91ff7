// Posts with the AWS SDK for JavaScript v3, as AWS's samples do, and answers
// with what the SDK raised. A message `whoami` is answered with its connection's
// id; a message `{"post": DATA, "to": ID}` posts DATA to connection ID (its own
// connection when `to` is left out) and is answered with the SDK's outcome:
// `{"ok": true, "attempts": N, "requestId": ID}`, or the error's `name`, the
// class the SDK raised it as, `httpStatusCode`, `$fault`, the attempts the SDK
// made and the request id it read from the answer.
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";

export const handler = async (event) => {
  const { connectionId, domainName, stage } = event.requestContext;
  if (event.body === "whoami") {
    return { statusCode: 200, body: connectionId };
  }
  const asked = JSON.parse(event.body);
  const client = new ApiGatewayManagementApiClient({
    endpoint: `https://${domainName}/${stage}`,
  });
  let outcome;
  try {
    const { $metadata } = await client.send(
      new PostToConnectionCommand({ ConnectionId: asked.to ?? connectionId, Data: asked.post }),
    );
    outcome = { ok: true, attempts: $metadata.attempts, requestId: $metadata.requestId };
  } catch (error) {
    outcome = {
      name: error.name,
      class: error.constructor.name,
      httpStatusCode: error.$metadata?.httpStatusCode,
      fault: error.$fault,
      attempts: error.$metadata?.attempts,
      requestId: error.$metadata?.requestId,
    };
  }
  return { statusCode: 200, body: JSON.stringify(outcome) };
};
