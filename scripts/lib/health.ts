// Moved to the harness package (readiness.ts); kept only so that scripts/up.ts compiles until it imports from there.
export * from "@ftgo/harness/readiness.js";
