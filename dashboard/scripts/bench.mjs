// First page load on loopback: the bytes of the page and its assets (raw and gzip) and the
// time from navigation start to the rendered sign-in form, median of 20 cold loads (a fresh
// browser context each, so nothing is cached), in headless chromium against a real server.
//   ENVSYNC_BIN=target/release/envsync node dashboard/scripts/bench.mjs
import { gzipSync } from 'node:zlib';
import { Team } from '../test/team.mjs';

const team = new Team();
await team.start();
let raw = 0;
let gzip = 0;
for (const path of ['/', '/assets/app.js', '/assets/app.css']) {
  const bytes = Buffer.from(await (await fetch(`${team.url}${path}`)).arrayBuffer());
  raw += bytes.length;
  gzip += gzipSync(bytes, { level: 9 }).length;
}
const browser = await team.launchBrowser();
const times = [];
for (let run = 0; run < 21; run++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${team.url}/`);
  // Measured in the page: from navigation start to the form rendered (the first frame in
  // which the sign-in heading exists), without the test driver's round trips.
  const rendered = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const check = () =>
          document.querySelector('h1')?.textContent === 'Sign in'
            ? resolve(performance.now())
            : requestAnimationFrame(check);
        check();
      }),
  );
  if (run > 0) times.push(rendered);
  await context.close();
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(
  `first load: ${raw} bytes (${gzip} gzip), median ${median.toFixed(1)} ms over ${times.length}`,
);
await team.stop();
