// SPDX-License-Identifier: Apache-2.0
// An analysis as one is written for the TagoIO cloud with the official SDK (@tago-io/sdk, pinned
// in package.json), unchanged: the gateway runs it with the cloud's T_ANALYSIS_* environment and
// TAGOIO_API pointed at its local Device API (tests/integration/actions_test.cc). It converts the
// scope's temperature to Fahrenheit and sends it back as temperature_f.
"use strict";
const { Analysis, Device } = require("@tago-io/sdk");

async function fahrenheit(context, scope) {
  const env = Object.fromEntries(context.environment.map((e) => [e.key, e.value]));
  const reading = scope.find((r) => r.variable === "temperature");
  if (!reading) return context.log("no temperature in the scope");
  const value = (Number(reading.value) * 9) / 5 + 32;
  const device = new Device({ token: env.DEVICE_TOKEN });
  await device.sendData({ variable: "temperature_f", value, unit: "F" });
  context.log(`derived temperature_f ${value} from ${reading.device}`);
}

Analysis.use(fahrenheit);
