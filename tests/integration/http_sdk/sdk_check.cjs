// The official TagoIO JS SDK (@tago-io/sdk, pinned in package.json) pointed at edgegw's local
// Device API: sendData, getData, info, deleteData, and a wrong token refused. Run by
// tests/integration/http_sdk_test.cc with EDGEGW_API, EDGEGW_TOKEN, EDGEGW_LOCAL_TOKEN and
// EDGEGW_WRONG_TOKEN set; exits non-zero with the reason on the first failed check.
"use strict";
const assert = require("node:assert/strict");
const { Device } = require("@tago-io/sdk");

const api = process.env.EDGEGW_API;
const region = { api, realtime: api, sse: api };
const device = (token) => new Device({ token, region });

// The SDK wraps a count (a bare number from the API) as [{time, value}].
async function count(d, params) {
  const r = await d.getData({ ...params, query: "count" });
  assert.equal(r.length, 1);
  return r[0].value;
}

async function refusal(promise) {
  try {
    await promise;
  } catch (e) {
    return String(e && e.message ? e.message : e);
  }
  assert.fail("the request was not refused");
}

async function main() {
  for (const name of ["EDGEGW_API", "EDGEGW_TOKEN", "EDGEGW_LOCAL_TOKEN", "EDGEGW_WRONG_TOKEN"]) {
    assert.ok(process.env[name], `${name} is not set`);
  }
  const boiler = device(process.env.EDGEGW_TOKEN);

  assert.equal(
    await boiler.sendData([
      { variable: "temperature", value: 21.5, unit: "C", time: "2024-01-01T00:00:00.000Z" },
      { variable: "humidity", value: 40, group: "g1", location: { lat: 1.5, lng: 2.5 } },
    ]),
    "2 Data Added",
  );
  assert.equal(
    await boiler.sendData({ variable: "temperature", value: 22.5, metadata: { room: "a" } }),
    "1 Data Added",
  );

  const last = await boiler.getData({ variables: ["temperature"], query: "last_value" });
  assert.equal(last.length, 1);
  assert.equal(last[0].value, 22.5);
  assert.deepEqual(last[0].metadata, { room: "a" });
  assert.equal(last[0].id.length, 24);

  const temps = await boiler.getData({ variables: "temperature", qty: 10, ordination: "ascending" });
  assert.deepEqual(temps.map((r) => r.value), [21.5, 22.5]);
  assert.equal(new Date(temps[0].time).toISOString(), "2024-01-01T00:00:00.000Z");
  assert.equal(temps[0].unit, "C");

  const hum = await boiler.getData({ variables: "humidity" });
  assert.deepEqual(hum[0].location, { type: "Point", coordinates: [2.5, 1.5] });
  assert.equal(hum[0].group, "g1");
  assert.equal(await count(boiler, {}), 3);

  const info = await boiler.info();
  assert.equal(info.name, "boiler-1");
  assert.equal(info.active, true);
  assert.ok(info.last_input, "info has no last_input");

  // The device's local_token works as well as its cloud token.
  const local = device(process.env.EDGEGW_LOCAL_TOKEN);
  assert.equal(await local.sendData({ variable: "pressure", value: 1013 }), "1 Data Added");
  assert.equal((await local.info()).name, "boiler-1");

  assert.equal(await boiler.deleteData({ variables: "humidity", qty: 10 }), "1 Data Removed");
  assert.equal(await count(boiler, {}), 3);

  const stranger = device(process.env.EDGEGW_WRONG_TOKEN);
  assert.match(await refusal(stranger.sendData({ variable: "x", value: 1 })), /Authorization Denied/);
  assert.match(await refusal(stranger.getData({ variables: "temperature" })), /Authorization Denied/);
  assert.match(await refusal(stranger.info()), /Authorization Denied/);

  // The cloud's validation: a bad variable name is refused, and nothing of the request is kept.
  assert.match(
    await refusal(boiler.sendData([{ variable: "ok", value: 1 }, { variable: "no way", value: 2 }])),
    /variable/,
  );
  assert.equal(await count(boiler, { variables: "ok" }), 0);
  console.log("sdk checks: all passed");
}

main().catch((e) => {
  console.error("sdk check failed:", e && e.stack ? e.stack : e);
  process.exit(1);
});
