// The official AsyncAPI parser over a document: one JSON line per diagnostic, then whether it
// parsed (libs/eventlog/tests/test_asyncapi.py).
import { Parser } from "@asyncapi/parser";
import { readFileSync } from "node:fs";

const { document, diagnostics } = await new Parser().parse(readFileSync(process.argv[2], "utf8"));
for (const d of diagnostics) {
  console.log(JSON.stringify({ severity: d.severity, code: d.code, message: d.message,
                               path: d.path.join("/") }));
}
console.log(JSON.stringify({ parsed: document !== undefined }));
