// A CommonJS handler in the callback style, with state in its module: each
// container counts its own invocations. A message's body asks for more:
// `context` answers the context object's fields, `fail` calls back with an
// error, `sleep` outlives any Timeout, and `meet:FOLDER` waits until another
// invocation meets it there, so that two run at once, in two containers.
const fs = require("node:fs");
const path = require("node:path");

let invocations = 0;

function meet(folder, id, then) {
  fs.writeFileSync(path.join(folder, id), "");
  const look = setInterval(() => {
    if (fs.readdirSync(folder).length >= 2) {
      clearInterval(look);
      then();
    }
  }, 10);
}

exports.handler = function (event, context, callback) {
  invocations += 1;
  const body = event.body || "";
  const counted = invocations;
  console.log("invocation %d of this container", counted);
  if (body === "context") {
    const { getRemainingTimeInMillis, ...fields } = context;
    const remaining = getRemainingTimeInMillis();
    callback(null, { statusCode: 200, body: JSON.stringify({ ...fields, remaining }) });
  } else if (body === "fail") {
    callback(new TypeError("the message asked for an error"));
  } else if (body === "sleep") {
    setTimeout(() => callback(null, { statusCode: 200, body: "woke" }), 600_000);
  } else if (body.startsWith("meet:")) {
    meet(body.slice(5), context.awsRequestId.replace(/\//g, "_"), () =>
      callback(null, { statusCode: 200, body: `callback ${counted}` }),
    );
  } else {
    setImmediate(() => callback(null, { statusCode: 200, body: `callback ${counted}` }));
  }
};
