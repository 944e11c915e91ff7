// A container of a Node.js function under papo serve: `node bootstrap.mjs FD`.
//
// It speaks papo's container protocol over the socket FD it inherits (each
// message is JSON after its length, four bytes, big-endian): first the setup
// (the function's code folder, Handler, configuration, and the hosts that lead
// to papo serve), answered once the handler is loaded, as Lambda's init phase;
// then one invocation at a time, each answered with the handler's result or
// its error, how long it took, and, the first time, how long the init took.
// papo serve writes START, END and REPORT and keeps the Timeout and
// MemorySize; this side loads the handler as Lambda's Node.js runtime does,
// gives it Lambda's context object, and writes its console lines as Lambda's.

import fs from "node:fs";
import { createRequire, register } from "node:module";
import net from "node:net";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import util from "node:util";

const require = createRequire(import.meta.url);
const channel = new net.Socket({ fd: Number(process.argv[2]), readable: true, writable: true });

const received = [];
const waiting = [];
let buffered = Buffer.alloc(0);
channel.on("data", (chunk) => {
  buffered = Buffer.concat([buffered, chunk]);
  while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
    const length = buffered.readUInt32BE(0);
    const message = JSON.parse(buffered.subarray(4, 4 + length).toString("utf8"));
    buffered = buffered.subarray(4 + length);
    const next = waiting.shift();
    if (next) next(message);
    else received.push(message);
  }
});
// papo serve closes the socket to end the container.
channel.on("close", () => process.exit(0));
channel.on("error", () => process.exit(0));

function receive() {
  if (received.length) return Promise.resolve(received.shift());
  return new Promise((resolve) => waiting.push(resolve));
}

function send(message) {
  const data = Buffer.from(JSON.stringify(message), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  channel.write(Buffer.concat([length, data]));
}

// Lambda's console: each line with its time, the invocation's request id and level.
let requestId;
let jsonLog = false;

function write(level, message) {
  const time = new Date().toISOString();
  const line = jsonLog
    ? JSON.stringify({ timestamp: time, level, requestId, message })
    : `${time}\t${requestId}\t${level}\t${message}`;
  (level === "ERROR" || level === "WARN" ? process.stderr : process.stdout).write(line + "\n");
}

const LEVELS = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG" };
for (const [method, level] of Object.entries(LEVELS)) {
  console[method] = (...args) => write(level, util.format(...args));
}
console.trace = (...args) => {
  const stack = new Error().stack.split("\n").slice(2).join("\n");
  write("TRACE", `Trace: ${util.format(...args)}\n${stack}`);
};

// The API's own AWS address leads to papo serve's https port, as it does for
// Python handlers: the name, on port 443, connects to papo serve's address
// instead, and the certificate is still checked against the name.
function leadToPapo(hosts) {
  const tls = require("node:tls");
  const connect = tls.connect;
  tls.connect = function (...args) {
    const options = args[0];
    if (options && typeof options === "object") {
      const host = String(options.host || options.servername || "").toLowerCase().replace(/\.$/, "");
      const port = Number(options.port || 443);
      const address = port === 443 ? hosts[host] : undefined;
      if (address) {
        args[0] = { ...options, host: address[0], port: address[1], servername: host };
      }
    }
    return connect.apply(this, args);
  };
}

// Lambda's Handler: `app.handler` is the function `handler` of `app.js`,
// `app.mjs` or `app.cjs` in the code folder (`src/app.handler`: in `src/`;
// `app.a.b`: `b` of `a` of it).
class LambdaError extends Error {
  constructor(type, message) {
    super(message);
    this.name = type;
  }
}

function split(handler) {
  const folder = path.dirname(handler);
  const base = path.basename(handler);
  const dot = base.indexOf(".");
  if (dot < 1 || dot === base.length - 1) {
    throw new LambdaError("Runtime.MalformedHandlerName", "Bad handler");
  }
  return [path.join(folder, base.slice(0, dot)), base.slice(dot + 1)];
}

function moduleType(file) {
  for (let folder = path.dirname(file); ; folder = path.dirname(folder)) {
    const manifest = path.join(folder, "package.json");
    if (fs.existsSync(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, "utf8")).type || "commonjs";
      } catch {
        return "commonjs";
      }
    }
    if (path.dirname(folder) === folder) return "commonjs";
  }
}

async function loadModule(codeDir, modulePath) {
  const base = path.resolve(codeDir, modulePath);
  const file = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => fs.existsSync(f));
  if (file === undefined) {
    throw new LambdaError(
      "Runtime.ImportModuleError",
      `Error: Cannot find module '${modulePath}'\nRequire stack:\n- ${fileURLToPath(import.meta.url)}`,
    );
  }
  try {
    if (file.endsWith(".mjs") || (file.endsWith(".js") && moduleType(file) === "module")) {
      return await import(pathToFileURL(file).href);
    }
    return createRequire(file)(file);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new LambdaError("Runtime.UserCodeSyntaxError", `${error.name}: ${error.message}`);
    }
    if (error?.code === "ERR_MODULE_NOT_FOUND" || error?.code === "MODULE_NOT_FOUND") {
      throw new LambdaError("Runtime.ImportModuleError", `Error: ${error.message}`);
    }
    throw error;
  }
}

async function loadHandler(codeDir, handler) {
  const [modulePath, name] = split(handler);
  const loaded = await loadModule(codeDir, modulePath);
  const found = name.split(".").reduce((value, key) => value?.[key], loaded);
  if (typeof found !== "function") {
    throw new LambdaError(
      "Runtime.HandlerNotFound",
      `${path.basename(modulePath)}.${name} is undefined or not exported`,
    );
  }
  return found;
}

function report(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name,
      errorMessage: error.message,
      trace: String(error.stack || "").split("\n"),
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

// The handler's answer: what its promise resolves to, or what it gives its
// callback (Lambda answers at the callback when callbackWaitsForEmptyEventLoop
// is false; papo answers there in either case).
function call(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (error, result) => {
      if (settled) return;
      settled = true;
      if (error !== undefined && error !== null) reject(error);
      else resolve(result);
    };
    context.done = done;
    context.succeed = (result) => done(null, result);
    context.fail = (error) => done(error ?? "handled");
    const returned = handler(event, context, done);
    if (returned && typeof returned.then === "function") {
      returned.then(
        (result) => done(null, result),
        (error) => done(error ?? new Error("the handler's promise was rejected")),
      );
    } else if (handler.length < 3) {
      setImmediate(() => done(null, null));
    }
  });
}

function lambdaContext(fn, id, region) {
  const deadline = Date.now() + fn.timeout_s * 1000;
  return {
    awsRequestId: id,
    functionName: fn.name,
    functionVersion: "$LATEST",
    memoryLimitInMB: String(fn.memory_mb),
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${fn.name}`,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME || "papo-local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function logError(heading, error) {
  const { errorType, errorMessage, trace } = report(error);
  write("ERROR", `${heading} \t${JSON.stringify({ errorType, errorMessage, stack: trace })}`);
}

async function main() {
  const setup = await receive();
  const fn = setup.function;
  jsonLog = fn.json_log;
  if (Object.keys(setup.hosts).length) leadToPapo(setup.hosts);
  // ES modules' imports find the SDK after the function's own node_modules;
  // `require` finds it through NODE_PATH.
  register("./sdk_resolve.mjs", import.meta.url, { data: { sdk: setup.sdk } });
  const region = process.env.AWS_REGION || "us-east-1";
  const started = performance.now();
  let handler;
  let failure;
  try {
    handler = await loadHandler(setup.code_dir, setup.handler);
  } catch (error) {
    failure = error;
    logError("Uncaught Exception", error);
  }
  let initMs = performance.now() - started;
  send({ ready: true });
  for (;;) {
    const request = await receive();
    requestId = request.request_id;
    const began = performance.now();
    let answer;
    try {
      if (failure !== undefined) throw failure;
      const result = await call(handler, request.event, lambdaContext(fn, requestId, region));
      answer = { result: result === undefined ? null : result };
    } catch (error) {
      logError("Invoke Error", error);
      const payload = report(error);
      answer = { error: `${payload.errorType}: ${payload.errorMessage}`, payload };
    }
    answer.duration_ms = performance.now() - began;
    if (initMs !== undefined) answer.init_ms = initMs;
    initMs = undefined;
    try {
      send(answer);
    } catch (error) {
      const payload = {
        errorType: "Runtime.MarshalError",
        errorMessage: `Unable to stringify response body: ${error.message}`,
        trace: [],
      };
      send({
        error: `${payload.errorType}: ${payload.errorMessage}`,
        payload,
        duration_ms: answer.duration_ms,
      });
    }
  }
}

main();
