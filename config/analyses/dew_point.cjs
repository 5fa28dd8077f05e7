// SPDX-License-Identifier: Apache-2.0
// A TagoIO analysis, as written for the cloud, that config/edge-actions.yaml runs on the box:
// from the scope's humidity (and the device's last temperature) it sends dew_point. The gateway
// starts it with the cloud's environment (T_ANALYSIS_CONTEXT, T_ANALYSIS_ENV, T_ANALYSIS_DATA)
// and TAGOIO_API pointed at its local Device API, so nothing here knows it is not in the cloud.
"use strict";
const { Analysis, Device } = require("@tago-io/sdk");

// Magnus formula, over water: good to ±0.35 °C from -45 to 60 °C.
function dewPoint(celsius, relativeHumidity) {
  const a = 17.62;
  const b = 243.12;
  const gamma = Math.log(relativeHumidity / 100) + (a * celsius) / (b + celsius);
  return (b * gamma) / (a - gamma);
}

async function run(context, scope) {
  const env = Object.fromEntries(context.environment.map((e) => [e.key, e.value]));
  const device = new Device({ token: env.DEVICE_TOKEN });
  const humidity = scope.find((r) => r.variable === "humidity");
  if (!humidity) return context.log("scheduled run: nothing to derive");
  // GET /data is answered by the gateway's local history.
  const [temperature] = await device.getData({ variable: "temperature", qty: 1 });
  if (!temperature) return context.log("no temperature yet");
  const value = Math.round(dewPoint(Number(temperature.value), Number(humidity.value)) * 10) / 10;
  await device.sendData({ variable: "dew_point", value, unit: "C" });
  context.log(`dew_point ${value} C`);
}

Analysis.use(run);
