// A resolve hook for ES modules of a function under papo serve: a bare
// specifier its code folder does not provide (`@aws-sdk/client-dynamodb`) is
// looked for again among the AWS SDK papo installed, as Lambda's Node.js
// runtime provides it. The function's own node_modules are looked at first,
// so they win.

import { pathToFileURL } from "node:url";

let sdkParent;

export function initialize({ sdk }) {
  sdkParent = pathToFileURL(`${sdk}/papo-sdk-parent.js`).href;
}

function isBare(specifier) {
  return !/^(\.{0,2}\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== "ERR_MODULE_NOT_FOUND" || !isBare(specifier) || !sdkParent) throw error;
    return nextResolve(specifier, { ...context, parentURL: sdkParent });
  }
}
