// Drives callsign's Trust Hub and 2010 API with Twilio's official Node.js helper
// library (the `twilio` npm package), as code written against Twilio would: it builds
// the attestation world (accounts, numbers, end users, supporting documents, a Primary
// profile and a SHAKEN/STIR trust product with every assignment), submits it, has the
// operator approve it, pages through every list one record at a time, and checks the
// answers the library parses: statuses, fields, filters and Twilio's error codes.
//
// Run by tests/twilio_compat.rs: `node twilio_compat.js BASE`, with BASE callsign's HTTP
// address (http://127.0.0.1:PORT) and the operator's credential in OPERATOR_SID and
// OPERATOR_TOKEN. The `twilio` package is found through NODE_PATH (scripts/test.sh
// installs it into target/twilio-node).

"use strict";

const assert = require("node:assert/strict");
const twilio = require("twilio");

const PRIMARY = "RN6433641899984f951173ef1738c3bdd0";
const SHAKEN = "RN7a97559effdf62d00f4298208492a5ea";
const ADDRESS = "AD0123456789abcdef0123456789abcdef";

/// A client whose Trust Hub and 2010 API domains are callsign at `base`.
function client(base, sid, token) {
  const c = twilio(sid, token);
  c.trusthub.baseUrl = base;
  c.api.baseUrl = base;
  return c;
}

/// Awaits `call`, which must fail with Twilio error `code`; returns the error.
async function expectError(code, call) {
  try {
    await call();
  } catch (e) {
    assert.equal(e.code, code, `expected Twilio error ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected Twilio error ${code}, got success`);
}

/// Every record of a list, one per page, through the library's paging.
async function everyOne(list, params = {}) {
  const seen = [];
  await list.each({ ...params, pageSize: 1 }, (item) => seen.push(item));
  const all = await list.list(params);
  assert.deepEqual(
    seen.map((x) => x.sid),
    all.map((x) => x.sid),
    "paging one by one finds what one page lists",
  );
  return seen;
}

async function main() {
  const base = process.argv[2];
  const op = client(base, process.env.OPERATOR_SID, process.env.OPERATOR_TOKEN);

  // Accounts: one customer, its sub-account, and a second sub-account closed for good.
  const created = await op.api.v2010.accounts.create({ friendlyName: "Node Co" });
  assert.ok(created.authToken && created.ownerAccountSid === created.sid);
  const me = client(base, created.sid, created.authToken);
  const sub = await me.api.v2010.accounts.create({ friendlyName: "Node Co support" });
  assert.equal(sub.ownerAccountSid, created.sid);
  const gone = await me.api.v2010.accounts.create({ friendlyName: "Node Co closed" });
  const closed = await me.api.v2010.accounts(gone.sid).update({ status: "closed" });
  assert.equal(closed.status, "closed");
  await expectError(20001, () => me.api.v2010.accounts(gone.sid).update({ status: "active" }));
  const mine = await everyOne(me.api.v2010.accounts);
  assert.deepEqual(
    mine.map((a) => a.sid).sort(),
    [created.sid, sub.sid, gone.sid].sort(),
  );

  // Numbers: the operator's to give; every field of the spec is there; updates take.
  const numbers = op.api.v2010.accounts(created.sid).incomingPhoneNumbers;
  const main164 = "+12155550161";
  const pn = await numbers.create({ phoneNumber: main164 });
  await numbers.create({ phoneNumber: "+12155550162" });
  await expectError(21421, () => numbers.create({ phoneNumber: "215-555-0100" }));
  await expectError(21422, () => numbers.create({ phoneNumber: main164 }));
  const mineNumbers = me.api.v2010.accounts(created.sid).incomingPhoneNumbers;
  await expectError(20403, () => mineNumbers.create({ phoneNumber: "+12155550163" }));
  const fetched = await mineNumbers(pn.sid).fetch();
  for (const field of [
    "accountSid", "addressSid", "addressRequirements", "apiVersion", "beta", "capabilities",
    "dateCreated", "dateUpdated", "friendlyName", "identitySid", "phoneNumber", "origin",
    "sid", "smsApplicationSid", "smsFallbackMethod", "smsFallbackUrl", "smsMethod", "smsUrl",
    "statusCallback", "statusCallbackMethod", "trunkSid", "uri", "voiceReceiveMode",
    "voiceApplicationSid", "voiceCallerIdLookup", "voiceFallbackMethod", "voiceFallbackUrl",
    "voiceMethod", "voiceUrl", "emergencyStatus", "emergencyAddressSid",
    "emergencyAddressStatus", "bundleSid", "status",
  ]) {
    assert.ok(field in fetched, `IncomingPhoneNumber has ${field}`);
  }
  assert.equal(fetched.phoneNumber, main164);
  const renamed = await mineNumbers(pn.sid).update({ friendlyName: "main line" });
  assert.equal(renamed.friendlyName, "main line");
  const found = await mineNumbers.list({ phoneNumber: main164 });
  assert.deepEqual(found.map((n) => n.sid), [pn.sid]);
  assert.equal((await everyOne(mineNumbers)).length, 2);

  // End users, their types, and the policies that need them.
  const hub = me.trusthub.v1;
  const users = [];
  for (const [type, attributes] of [
    ["customer_profile_business_information", { business_name: "Node Co" }],
    ["authorized_representative_1", { first_name: "Grace", last_name: "Hopper" }],
  ]) {
    const user = await hub.endUsers.create({ friendlyName: type, type, attributes });
    assert.deepEqual(user.attributes, attributes);
    users.push(user);
  }
  await expectError(20001, () => hub.endUsers.create({ friendlyName: "x", type: "pet" }));
  await expectError(20001, () => hub.endUsers(users[0].sid).update({}));
  const types = await everyOne(hub.endUserTypes);
  const rep = types.find((t) => t.machineName === "authorized_representative_1");
  assert.ok(rep.fields.some((f) => f.machine_name === "email"), JSON.stringify(rep.fields));
  assert.equal((await hub.endUserTypes(rep.sid).fetch()).machineName, rep.machineName);
  const policies = await everyOne(hub.policies);
  assert.equal(policies[0].sid, PRIMARY);
  const primary = await hub.policies(PRIMARY).fetch();
  const needs = primary.requirements.supporting_document[0].map((r) => r.requirement_name);
  assert.deepEqual(needs, ["customer_profile_address"]);

  // The business address, as a supporting document.
  const docTypes = await everyOne(hub.supportingDocumentTypes);
  const addressType = docTypes.find((t) => t.machineName === "customer_profile_address");
  assert.deepEqual(addressType.fields.map((f) => f.machine_name), ["address_sids"]);
  const address = await hub.supportingDocuments.create({
    friendlyName: "HQ",
    type: "customer_profile_address",
    attributes: { address_sids: [ADDRESS] },
  });
  assert.equal(address.status, "DRAFT");
  assert.equal(address.mimeType, null);
  assert.equal(address.accountSid, created.sid);
  const spare = await hub.supportingDocuments.create({
    friendlyName: "spare",
    type: "customer_profile_address",
  });
  assert.equal(
    (await hub.supportingDocuments(address.sid).update({ friendlyName: "Headquarters" }))
      .friendlyName,
    "Headquarters",
  );
  await expectError(20001, () => hub.supportingDocuments(address.sid).update({}));
  assert.deepEqual(
    (await everyOne(hub.supportingDocuments)).map((d) => d.sid),
    [address.sid, spare.sid],
  );
  assert.ok(await hub.supportingDocuments(spare.sid).remove());
  const missing = await expectError(20404, () => hub.supportingDocuments(spare.sid).fetch());
  assert.ok(missing.message.includes(`/v1/SupportingDocuments/${spare.sid}`), missing.message);
  // The sub-account does not see its parent's documents.
  const subClient = client(base, sub.sid, sub.authToken);
  await expectError(20404, () => subClient.trusthub.v1.supportingDocuments(address.sid).fetch());
  assert.deepEqual(await subClient.trusthub.v1.supportingDocuments.list(), []);

  // The Primary profile: noncompliant until everything it needs is attached.
  const profile = await hub.customerProfiles.create({
    friendlyName: "Node Co primary",
    email: "ops@node.example",
    policySid: PRIMARY,
  });
  assert.equal(profile.status, "draft");
  const cp = hub.customerProfiles(profile.sid);
  let evaluation = await cp.customerProfilesEvaluations.create({ policySid: PRIMARY });
  assert.equal(evaluation.status, "noncompliant");
  for (const object of [...users, address]) {
    await cp.customerProfilesEntityAssignments.create({ objectSid: object.sid });
  }
  // Twilio's ObjectType filter: an end-user type keeps the end users of that type.
  const reps = await cp.customerProfilesEntityAssignments.list({
    objectType: "authorized_representative_1",
  });
  assert.deepEqual(reps.map((a) => a.objectSid), [users[1].sid]);
  const documents = await cp.customerProfilesEntityAssignments.list({
    objectType: "supporting_document",
  });
  assert.deepEqual(documents.map((a) => a.objectSid), [address.sid]);
  assert.equal((await everyOne(cp.customerProfilesEntityAssignments)).length, 3);
  await cp.customerProfilesChannelEndpointAssignment.create({
    channelEndpointType: "phone-number",
    channelEndpointSid: pn.sid,
  });
  evaluation = await cp.customerProfilesEvaluations.create({ policySid: PRIMARY });
  assert.equal(evaluation.status, "compliant", JSON.stringify(evaluation.results));
  assert.equal((await everyOne(cp.customerProfilesEvaluations)).length, 2);

  // The SHAKEN/STIR trust product on it.
  const product = await hub.trustProducts.create({
    friendlyName: "Node Co SHAKEN/STIR",
    email: "ops@node.example",
    policySid: SHAKEN,
  });
  const tp = hub.trustProducts(product.sid);
  await tp.trustProductsEntityAssignments.create({ objectSid: profile.sid });
  await tp.trustProductsChannelEndpointAssignment.create({
    channelEndpointType: "phone-number",
    channelEndpointSid: pn.sid,
  });
  assert.deepEqual(
    (await everyOne(tp.trustProductsChannelEndpointAssignment)).map((a) => a.channelEndpointSid),
    [pn.sid],
  );

  // Submitted by the customer, the document goes under review with the profile.
  await cp.update({ status: "pending-review" });
  await tp.update({ status: "pending-review" });
  assert.equal((await hub.supportingDocuments(address.sid).fetch()).status, "PENDING_REVIEW");
  await expectError(60711, () => cp.update({ friendlyName: "renamed" }));
  await expectError(60711, () =>
    hub.supportingDocuments(address.sid).update({ attributes: { address_sids: [] } }),
  );
  await expectError(20403, () => tp.update({ status: "twilio-approved" }));
  const pending = await everyOne(hub.customerProfiles, { status: "pending-review" });
  assert.deepEqual(pending.map((p) => p.sid), [profile.sid]);

  // The operator approves; the document is approved with the profile.
  const opHub = op.trusthub.v1;
  await opHub.customerProfiles(profile.sid).update({ status: "in-review" });
  const approved = await opHub.customerProfiles(profile.sid).update({ status: "twilio-approved" });
  assert.equal(approved.status, "twilio-approved");
  await opHub.trustProducts(product.sid).update({ status: "twilio-approved" });
  assert.equal((await hub.supportingDocuments(address.sid).fetch()).status, "APPROVED");
  const preview = await op.request({
    method: "get",
    uri: `${base}/v1/Attestation`,
    params: { AccountSid: created.sid, PhoneNumber: main164 },
  });
  assert.equal(preview.statusCode, 200);
  const body = typeof preview.body === "string" ? JSON.parse(preview.body) : preview.body;
  assert.equal(body.attest, "A", JSON.stringify(body));
  assert.equal(body.trust_product_sid, product.sid);

  // Closing the account is final: its numbers are released.
  await op.api.v2010.accounts(created.sid).update({ status: "closed" });
  await expectError(20001, () => op.api.v2010.accounts(created.sid).update({ status: "active" }));
  assert.deepEqual(await numbers.list(), []);
  console.log("node client: ok");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
