// Validates CloudNativePG Cluster documents (a JSON array on stdin) against the operator's CRD
// schema, as @kubernetes-models/cloudnative-pg ships it; prints one line a document.
import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1";
import fs from "fs";
const docs = JSON.parse(fs.readFileSync(0, "utf8"));
let bad = 0;
for (const doc of docs) {
  try { new Cluster(doc).validate(); console.log(`ok ${doc.metadata.name}`); }
  catch (e) { bad++; console.log(`invalid ${doc.metadata.name}: ${e.message}`); }
}
process.exit(bad ? 1 : 0);
