// Validates Kubernetes objects against the API's OpenAPI schemas (the kubernetes-models
// package, offline). Input on stdin: a JSON array of [file, object] pairs. Prints one line per
// object and exits 1 when any is invalid or of a kind the package does not know.
import { readFileSync } from "node:fs";

const docs = JSON.parse(readFileSync(0, "utf8"));
let bad = 0;
for (const [file, obj] of docs) {
    const where = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    let Model;
    try {
        Model = (await import(`kubernetes-models/${obj.apiVersion}/${obj.kind}`))[obj.kind];
    } catch (e) {
        console.log(`FAIL ${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
        bad++;
        continue;
    }
    try {
        new Model(obj).validate();
        console.log(`ok   ${where} (${obj.apiVersion})`);
    } catch (e) {
        console.log(`FAIL ${where}: ${e.message}`);
        bad++;
    }
}
process.exit(bad ? 1 : 0);
