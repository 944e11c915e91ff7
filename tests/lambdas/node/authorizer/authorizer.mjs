// A REQUEST authorizer for a WebSocket API in Node.js, written the plain way:
// the token in the query string decides, and the answer is an IAM policy on
// the method ARN, with a context of a string, a number and a boolean.
const policy = (principalId, Effect, Resource, context) => ({
  principalId,
  policyDocument: {
    Version: "2012-10-17",
    Statement: [{ Action: "execute-api:Invoke", Effect, Resource }],
  },
  ...(context ? { context } : {}),
});

export const handler = async (event) => {
  const token = (event.queryStringParameters || {}).token || "";
  if (token.startsWith("allow:")) {
    const name = token.slice("allow:".length);
    return policy(name, "Allow", event.methodArn, { name, level: 3, admin: true });
  }
  if (token === "deny") {
    return policy("someone", "Deny", event.methodArn);
  }
  if (token === "unauthorized") {
    throw new Error("Unauthorized");
  }
  throw new TypeError(`no rule for the token ${JSON.stringify(token)}`);
};
