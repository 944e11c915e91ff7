// An ES module handler, async, with state in its module: each container counts
// its own invocations. A message's body asks for more: `fail` throws, and
// `meet:FOLDER` waits until another invocation meets it there, so that two run
// at once, in two containers.
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

let invocations = 0;

export const handler = async (event, context) => {
  invocations += 1;
  const counted = invocations;
  const body = event.body || "";
  if (body === "fail") {
    throw new RangeError("the message asked for an error");
  }
  if (body.startsWith("meet:")) {
    const folder = body.slice(5);
    await writeFile(join(folder, context.awsRequestId.replace(/\//g, "_")), "");
    while ((await readdir(folder)).length < 2) {
      await sleep(10);
    }
  }
  return { statusCode: 200, body: `module ${counted}` };
};
