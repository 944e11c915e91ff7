// A CommonJS handler in the callback style, with state in its module: each
// container counts its own invocations. `sleep` and `fail` in a message's body
// make it outlive its Timeout or throw; `context` answers the context object's
// fields.
let invocations = 0;

exports.handler = function (event, context, callback) {
  invocations += 1;
  const body = event.body || "";
  console.log("invocation %d of this container", invocations);
  if (body === "context") {
    const { getRemainingTimeInMillis, ...fields } = context;
    const remaining = getRemainingTimeInMillis();
    callback(null, { statusCode: 200, body: JSON.stringify({ ...fields, remaining }) });
    return;
  }
  if (body === "fail") {
    callback(new TypeError("the message asked for an error"));
    return;
  }
  if (body === "sleep") {
    setTimeout(() => callback(null, { statusCode: 200, body: "woke" }), 60_000);
    return;
  }
  setTimeout(() => callback(null, { statusCode: 200, body: `callback ${invocations}` }), 1);
};
