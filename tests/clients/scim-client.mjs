// A provisioning run against Ignis's SCIM service with third-party SCIM libraries from npm:
//   scimmy             builds and validates SCIM messages and resources (RFC 7643/7644 schemas, PatchOp,
//                      SearchRequest, ListResponse), including the Ignis extension built from /Schemas;
//   scim2-parse-filter evaluates the same filters locally, over the users the server returned;
//   scim-patch         applies the same PATCH operations locally to the resource the server returned.
// The server must agree with all three. Usage: node scim-client.mjs <origin> <client_id> <client_secret>
// Prints one JSON line: {"checks": n, "failures": [...]} and exits 0 when there are no failures.
import SCIMMY from "scimmy";
import { parse, filter as compile } from "scim2-parse-filter";
import { scimPatch } from "scim-patch";

const [origin, clientId, clientSecret] = process.argv.slice(2);
const base = new URL("/scim/v2", origin).toString();
const failures = [];
let checks = 0;
const check = (ok, what, detail) => { checks++; if (!ok) failures.push({ what, detail }); };

const tokenResponse = await fetch(new URL("/oauth/token", origin), {
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: "Basic " + Buffer.from(`${clientId}:${clientSecret}`).toString("base64") },
  body: new URLSearchParams({ grant_type: "client_credentials", scope: "scim" }),
});
const { access_token: token } = await tokenResponse.json();
if (!token) { console.log(JSON.stringify({ error: "no token" })); process.exit(1); }

async function scim(method, path, body, headers = {}) {
  const response = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, Accept: "application/scim+json", ...(body ? { "Content-Type": "application/scim+json" } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

// Deep equality that ignores the order of object keys (not of arrays).
const canon = (v) => Array.isArray(v) ? v.map(canon) : v && typeof v === "object"
  ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v;
const same = (a, b) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
const withoutMeta = ({ meta, ...rest }) => rest;

// Discovery, read with SCIMMY's own definitions.
const config = await scim("GET", "/ServiceProviderConfig");
check(config.status === 200 && config.body.patch.supported && config.body.filter.supported && config.body.etag.supported,
  "ServiceProviderConfig advertises patch, filter and etag", config.body);
const schemas = await scim("GET", "/Schemas");
const ignisSchema = schemas.body.Resources.find((s) => s.id === "urn:ietf:params:scim:schemas:extension:ignis:2.0:User");
check(!!ignisSchema, "the Ignis extension is in /Schemas", schemas.body);
const toAttribute = (a) => new SCIMMY.Types.Attribute(a.type, a.name, {
  multiValued: a.multiValued, required: a.required, caseExact: a.caseExact, mutable: a.mutability === "readWrite" ? true : a.mutability === "readOnly" ? false : a.mutability,
  returned: a.returned === "default" ? true : a.returned === "never" ? false : a.returned, uniqueness: a.uniqueness === "none" ? false : a.uniqueness,
  canonicalValues: a.canonicalValues ?? [], referenceTypes: a.referenceTypes ?? [],
}, (a.subAttributes ?? []).map(toAttribute));
const ignis = new SCIMMY.Types.SchemaDefinition(ignisSchema.name, ignisSchema.id, ignisSchema.description, ignisSchema.attributes.map(toAttribute));
SCIMMY.Schemas.User.extend(SCIMMY.Schemas.EnterpriseUser, false);
SCIMMY.Schemas.User.extend(ignis, false);
const validUser = (resource, what) => {
  try { new SCIMMY.Schemas.User(resource, "out"); check(true, what); } catch (e) { check(false, what, { error: e.message, resource }); }
};

// Provision users as a directory would: bodies built and checked with SCIMMY before they are sent.
const prefix = "npm" + Math.floor(Math.random() * 1e8);
const people = [
  { userName: `${prefix}.ann`, title: "nurse", name: { givenName: "ann", familyName: "zeta" }, emails: [{ value: "ann@example.com", type: "work" }], active: true },
  { userName: `${prefix}.ben`, title: "surgeon", name: { givenName: "ben", familyName: "young" }, emails: [{ value: "ben@example.org", type: "work" }, { value: "ben@home.org", type: "home" }], active: true },
  { userName: `${prefix}.cy`, name: { givenName: "cy", familyName: "xu" }, active: false },
  { userName: `${prefix}.dee`, title: "nurse", emails: [{ value: "dee@example.com", type: "home" }], active: true, roles: [] },
];
const created = [];
for (const person of people) {
  const body = { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], ...person, password: "provisioned-pass-1" };
  SCIMMY.Schemas.User.definition.coerce(body, "in");
  const response = await scim("POST", "/Users", body);
  check(response.status === 201, `create ${person.userName} is 201`, response.body);
  check(response.headers.get("location") === response.body?.meta?.location, "Location is meta.location", response.body?.meta);
  check(response.headers.get("etag") === response.body?.meta?.version, "ETag is meta.version", response.body?.meta);
  check(!JSON.stringify(response.body).includes("provisioned-pass-1"), "the password is not returned");
  validUser(response.body, `the created ${person.userName} is a valid User`);
  created.push(response.body);
}

// The same filters, evaluated by the server and by scim2-parse-filter over the server's own resources.
const filters = [
  'title eq "nurse"', 'title pr', 'not (title pr)', 'active eq false', 'name.familyName gt "x"', 'name.givenName sw "b"',
  'emails.value co "example"', 'emails.value ew ".org"', 'emails[type eq "work" and value co "@example.com"]',
  'emails[type eq "home"] or title eq "surgeon"', '(title eq "nurse" or title eq "surgeon") and active eq true',
  'userName ew ".cy"', 'title ne "nurse" and title pr',
];
// Left out on purpose, where scim2-parse-filter reads RFC 7644 differently from Ignis (docs/scim.md says which way
// Ignis goes): 'emails co "x"' (Ignis compares emails.value, the library nothing) and 'title ne "x"' over users
// without a title (Ignis: ne is not(eq), so they match; the library: they do not).
for (const f of filters) {
  const full = `userName sw "${prefix}." and (${f})`;
  const response = await scim("GET", `/Users?filter=${encodeURIComponent(full)}&count=50`);
  const list = new SCIMMY.Messages.ListResponse(response.body);
  const server = list.Resources.map((r) => r.id).sort();
  const expected = created.filter(compile(parse(f))).map((r) => r.id).sort();
  check(response.status === 200 && same(server, expected), `filter ${f}`, { server, expected });
}
const search = new SCIMMY.Messages.SearchRequest({
  schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
  filter: `userName sw "${prefix}."`, sortBy: "name.familyName", sortOrder: "ascending", startIndex: 1, count: 2, attributes: ["userName"],
});
const searched = await scim("POST", "/Users/.search", JSON.parse(JSON.stringify(search)));
check(searched.status === 200 && searched.body.totalResults === 4
  && same(searched.body.Resources.map((r) => r.userName), [`${prefix}.cy`, `${prefix}.ben`]), "SearchRequest sorts and pages", searched.body);

// The same PATCH operations, applied by the server and by scim-patch to the resource the server returned.
const patches = [
  [{ op: "replace", path: "title", value: "lead" }, { op: "add", path: "nickName", value: "nick" }],
  [{ op: "add", path: 'emails[type eq "home"].value', value: "home@example.org" }],
  [{ op: "replace", path: 'emails[type eq "work"].value', value: "new@example.com" }],
  [{ op: "remove", path: 'emails[type eq "home"]' }],
  [{ op: "replace", path: "name.givenName", value: "zed" }],
  [{ op: "add", value: { displayName: "Dee", title: "chief" } }],
  [{ op: "remove", path: "title" }],
  [{ op: "add", path: "addresses", value: [{ type: "work", locality: "oslo" }] }, { op: "replace", path: 'addresses[type eq "work"].locality', value: "bergen" }],
  [{ op: "replace", path: "active", value: false }],
];
let current = created[0];
for (const operations of patches) {
  const message = new SCIMMY.Messages.PatchOp({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: operations });
  const expected = scimPatch(structuredClone(current), structuredClone(operations));
  const response = await scim("PATCH", `/Users/${current.id}`, JSON.parse(JSON.stringify(message)), { "If-Match": current.meta.version });
  check(response.status === 200 && same(withoutMeta(response.body), withoutMeta(expected)), `patch ${JSON.stringify(operations)}`,
    { server: response.body, expected });
  check(response.body?.meta?.version !== current.meta.version, "a patch gives a new version", response.body?.meta);
  if (response.status === 200) { validUser(response.body, "the patched user is a valid User"); current = response.body; }
}
const stale = await scim("PATCH", `/Users/${current.id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "title", value: "x" }] },
  { "If-Match": created[0].meta.version });
check(stale.status === 412 && stale.body.schemas[0] === "urn:ietf:params:scim:api:messages:2.0:Error", "a stale If-Match is 412", stale.body);

// Groups: membership through the role's group.
const groups = await scim("GET", `/Groups?filter=${encodeURIComponent('displayName eq "clinician"')}&excludedAttributes=members`);
const group = groups.body.Resources[0];
check(groups.status === 200 && group && group.members === undefined, "the clinician group is found without its members", groups.body);
const added = await scim("PATCH", `/Groups/${group.id}`, new SCIMMY.Messages.PatchOp({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  Operations: [{ op: "add", path: "members", value: created.map((u) => ({ value: u.id })) }] }));
check(added.status === 200 && created.every((u) => added.body.members.some((m) => m.value === u.id)), "members are added", added.body);
const member = await scim("GET", `/Users/${created[1].id}`);
check(member.body["urn:ietf:params:scim:schemas:extension:ignis:2.0:User"]?.roles?.includes("clinician"), "the member has the clinician role", member.body);
validUser(member.body, "a user with roles is a valid User");

// Deprovision.
for (const user of created) {
  const deleted = await scim("DELETE", `/Users/${user.id}`);
  check(deleted.status === 204, `delete ${user.userName} is 204`, deleted.body);
  const gone = await scim("GET", `/Users/${user.id}`);
  check(gone.status === 404 && gone.body.status === "404", `${user.userName} is gone`, gone.body);
}

console.log(JSON.stringify({ checks, failures }));
process.exit(failures.length === 0 ? 0 : 2);
