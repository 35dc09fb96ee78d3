#!/usr/bin/env node
// Run by `npm version <new>` (the package's "version" script, after package.json is bumped and before npm commits):
// moves the CHANGELOG's Unreleased section under the new version with today's UTC date and updates the compare
// links, so the changelog and package.json always agree. Refuses an empty Unreleased section.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

const version = process.argv[2] ?? process.env.npm_package_version;
if (!version) {
  console.error('changelog-release: no version (run through `npm version`, or pass it as an argument)');
  process.exit(2);
}
// The second argument names another changelog (the tests run the script on a copy).
const path = process.argv[3] ?? new URL('../CHANGELOG.md', import.meta.url).pathname;
const text = readFileSync(path, 'utf8');
const head = '## [Unreleased]';
const start = text.indexOf(head);
if (start < 0) {
  console.error('changelog-release: CHANGELOG.md has no "## [Unreleased]" section');
  process.exit(2);
}
if (text.includes(`## [${version}]`)) {
  console.error(`changelog-release: CHANGELOG.md already has a section for ${version}`);
  process.exit(2);
}
const next = text.indexOf('\n## [', start + head.length);
const body = text.slice(start + head.length, next < 0 ? undefined : next).trim();
if (body === '') {
  console.error('changelog-release: the Unreleased section is empty: say what this release changes first');
  process.exit(2);
}
const date = new Date().toISOString().slice(0, 10);
let out = `${text.slice(0, start)}${head}\n\n## [${version}] - ${date}\n\n${body}\n${next < 0 ? '' : text.slice(next)}`;
const link = /^\[Unreleased\]: (.*)\/compare\/v([^.\s]+\.[^.\s]+\.[^.\s]+)\.\.\.HEAD$/m.exec(out);
if (link) {
  const [line, base, previous] = link;
  out = out.replace(line, `[Unreleased]: ${base}/compare/v${version}...HEAD\n[${version}]: ${base}/compare/v${previous}...v${version}`);
}
writeFileSync(`${path}.tmp`, out);
renameSync(`${path}.tmp`, path);
console.error(`changelog-release: CHANGELOG.md now has ${version} (${date})`);
