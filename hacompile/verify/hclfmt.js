// Parse and format .tf files with HashiCorp's own HCL libraries (WebAssembly builds of the Go
// hcl/hclwrite packages, as shipped in @cdktn/hcl2json and @cdktn/hcl-tools).
// Usage: node hclfmt.js NODE_MODULES FILE...   Prints a JSON array, one object per file:
//   {file, parse_error: string|null, formatted: string|null, format_error: string|null}
"use strict";
const fs = require("fs");
const path = require("path");
const modules = process.argv[2];
const { format } = require(path.join(modules, "@cdktn/hcl-tools"));
const { parse } = require(path.join(modules, "@cdktn/hcl2json"));

(async () => {
  const results = [];
  for (const file of process.argv.slice(3)) {
    const text = fs.readFileSync(file, "utf8");
    const result = { file, parse_error: null, formatted: null, format_error: null };
    try {
      await parse(file, text);
    } catch (err) {
      result.parse_error = String((err && err.message) || err);
    }
    try {
      result.formatted = await format(text);
    } catch (err) {
      result.format_error = String((err && err.message) || err);
    }
    results.push(result);
  }
  process.stdout.write(JSON.stringify(results));
})().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + "\n");
  process.exit(2);
});
