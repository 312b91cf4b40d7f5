// Moved to the harness package; kept only so that scripts/up.ts compiles until it imports from there.
export * from "@ftgo/harness/service-process.js";
