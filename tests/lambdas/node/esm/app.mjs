// An ES module handler, async, with state in its module: each container counts
// its own invocations. `fail` in a message's body makes it throw.
let invocations = 0;

export const handler = async (event) => {
  invocations += 1;
  if (event.body === "fail") {
    throw new RangeError("the message asked for an error");
  }
  return { statusCode: 200, body: `module ${invocations}` };
};
