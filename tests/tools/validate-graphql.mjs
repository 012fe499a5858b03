// Validates a GraphQL document (read from stdin) against GitHub's published schema
// (npm @octokit/graphql-schema, whose node_modules directory is argv[2]).
// Prints one error per line; exit 1 when there are any, 2 when the schema cannot be loaded.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const entry = join(process.argv[2], "@octokit/graphql-schema/index.js");
const { validate } = await import(pathToFileURL(entry).href);
const errors = validate(readFileSync(0, "utf8"));
for (const error of errors) console.log(error.message);
process.exit(errors.length ? 1 : 0);
