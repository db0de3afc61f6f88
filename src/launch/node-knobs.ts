// Every environment variable Node documents (`node --help`, "Environment variables:", and the node(1)
// man page, for each supported Node version), and what secretwrap does about it. They are set for the
// app; none may act inside the process that holds every secret. test/unit/launch/node-knobs.test.ts reads the
// lists from each Node and fails when one is missing here.
//
//   launch    Node acts on it before any JavaScript runs (or at start-up, once): the first code of
//             secretwrap re-executes Node with it moved to SECRETWRAP_APP_<NAME> (src/launch/relaunch.ts).
//   runtime   Node reads it when it is used, not at start-up: taking it out of process.env before any
//             provider loads is enough (src/appenv.ts). No re-execution.
//   harmless  It cannot change what secretwrap fetches, trusts, loads or prints; the reason says why.
//             Common ones (TZ, NO_COLOR, NODE_NO_WARNINGS) must not cost a second start.
// All of them reach the app unchanged.

export type KnobHandling = "launch" | "runtime" | "harmless";

export interface NodeKnob {
  readonly handling: KnobHandling;
  readonly why: string;
}

export const NODE_KNOBS = {
  FORCE_COLOR: {
    handling: "harmless",
    why: "colours Node's inspection output; secretwrap formats its plain log lines itself",
  },
  NO_COLOR: { handling: "harmless", why: "colours only, as FORCE_COLOR" },
  NODE_DISABLE_COLORS: { handling: "harmless", why: "REPL and inspection colours only" },
  NODE_COMPILE_CACHE: {
    handling: "launch",
    why: "Node reads and writes compiled code of secretwrap's modules in the app's cache dir from start-up: a planted entry would be code secretwrap runs",
  },
  NODE_COMPILE_CACHE_PORTABLE: {
    handling: "harmless",
    why: "only changes how a compile cache keys its entries; the cache dir itself (NODE_COMPILE_CACHE) is moved aside",
  },
  NODE_DISABLE_COMPILE_CACHE: {
    handling: "harmless",
    why: "can only turn a cache off: start-up time, nothing else",
  },
  NODE_DEBUG: {
    handling: "launch",
    why: "core modules (net, http, tls, fetch) print request headers (a provider token header, authorization) to stderr; parsed at start-up",
  },
  NODE_DEBUG_NATIVE: { handling: "launch", why: "C++ debug output on stderr; parsed at start-up" },
  NODE_EXTRA_CA_CERTS: {
    handling: "launch",
    why: "extra trusted CAs for every credential-bearing TLS connection; read once at start-up",
  },
  NODE_ICU_DATA: {
    handling: "launch",
    why: "loads a data file at start-up that changes Intl, case mapping and normalisation",
  },
  NODE_NO_WARNINGS: {
    handling: "harmless",
    why: "only silences Node's process warnings; secretwrap reports through its own log",
  },
  NODE_OPTIONS: {
    handling: "launch",
    why: "any Node flag: preloads (--require, --import), the inspector, TLS and module options",
  },
  NODE_PATH: {
    handling: "launch",
    why: "module search path fixed at start-up: a bare require() a dependency tries would load code from there",
  },
  NODE_PENDING_DEPRECATION: {
    handling: "launch",
    why: "SDK deprecation warnings on secretwrap's stderr, lines that are not secretwrap's; a start-up option",
  },
  NODE_PENDING_PIPE_INSTANCES: { handling: "harmless", why: "Windows named pipes only" },
  NODE_PRESERVE_SYMLINKS: {
    handling: "launch",
    why: "changes how secretwrap's own modules resolve; a start-up option",
  },
  NODE_REDIRECT_WARNINGS: {
    handling: "launch",
    why: "Node would append secretwrap's process warnings to a file the app chose; a start-up option",
  },
  NODE_REPL_EXTERNAL_MODULE: {
    handling: "harmless",
    why: "read only when a REPL starts; secretwrap never starts one. (The single executable, which ignores NODE_OPTIONS, is refused by Node itself when it is set: exit 9, nothing started)",
  },
  NODE_REPL_HISTORY: {
    handling: "harmless",
    why: "read only when a REPL starts; secretwrap never starts one",
  },
  NODE_SKIP_PLATFORM_CHECK: { handling: "harmless", why: "only skips the supported-OS check at start-up" },
  NODE_TEST_CONTEXT: {
    handling: "harmless",
    why: "read only by the node:test runner, which secretwrap never loads",
  },
  NODE_TLS_REJECT_UNAUTHORIZED: {
    handling: "runtime",
    why: "0 turns TLS verification off; Node reads it at each connection, after it is taken out",
  },
  NODE_USE_ENV_PROXY: {
    handling: "launch",
    why: "routes secretwrap's credential-bearing requests through HTTP(S)_PROXY; set up at start-up",
  },
  NODE_USE_SYSTEM_CA: {
    handling: "launch",
    why: "adds the system's trusted CAs to every TLS connection; read at start-up",
  },
  NODE_V8_COVERAGE: {
    handling: "launch",
    why: "Node writes coverage of secretwrap's process into a dir the app chose; a start-up option",
  },
  OPENSSL_CONF: {
    handling: "launch",
    why: "OpenSSL loads it at start-up: providers and engines (native code) and the cipher policy",
  },
  SSL_CERT_DIR: {
    handling: "runtime",
    why: "OpenSSL reads it when trust comes from its own store (--use-openssl-ca, system CA; both moved aside)",
  },
  SSL_CERT_FILE: { handling: "runtime", why: "as SSL_CERT_DIR" },
  TZ: { handling: "harmless", why: "time zone: secretwrap's timestamps are UTC (toISOString)" },
  UV_THREADPOOL_SIZE: { handling: "harmless", why: "size of libuv's thread pool: speed only" },
} as const satisfies Readonly<Record<string, NodeKnob>>;

export type NodeKnobName = keyof typeof NODE_KNOBS;

function named(handling: KnobHandling): readonly NodeKnobName[] {
  return (Object.keys(NODE_KNOBS) as NodeKnobName[]).filter((name) => NODE_KNOBS[name].handling === handling);
}

/** Moved aside by the first code that runs, before Node has acted on anything else. */
export const LAUNCH_KNOBS = named("launch");
/** Taken out of process.env before any provider loads. */
export const RUNTIME_KNOBS = named("runtime");

/** Where a knob kept out of secretwrap waits for the app: SECRETWRAP_APP_<NAME> (src/appenv.ts). */
export const LAUNCHER_PREFIX = "SECRETWRAP_APP_";
