// zod for every schema in the Worker, from zod's small build (zod/mini: functions instead of
// methods, so the bundle keeps only the parts we call) with English messages, the one locale the
// API answers in. Every module imports it as `import * as z from ".../domain/zod"`: a namespace
// of re-exports, which esbuild shakes down to the functions used (a re-exported namespace object
// would keep all of zod, every locale included). Importing it sets the locale before any schema
// parses, so 400 messages read as they did with the full build ("Too big: expected ...").
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
