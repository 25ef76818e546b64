/**
 * Reads the containers a session connects to: an Invantive-style settings.xml
 * (`<settings><group name><connection name><database alias provider
 * connectionString/>`), or YAML/JSON (`{containers: [{alias, provider,
 * options | connectionString}]}`). Lookup: explicit path, $SLUICE_SETTINGS,
 * <sluice home>/settings.xml, else none.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import type { ContainerConfig } from '../provider/types.js';
import { SluiceError } from '../util/errors.js';
import { sluiceHome } from '../util/paths.js';

/** `key=value;key=value` → options with lower-cased keys; values may be quoted with "…" or '…'. */
export function parseConnectionString(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const key = text.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    let value = '';
    const q = text[j];
    if (q === '"' || q === "'") {
      const close = text.indexOf(q, j + 1);
      value = close < 0 ? text.slice(j + 1) : text.slice(j + 1, close);
      j = close < 0 ? text.length : close + 1;
      const semi = text.indexOf(';', j);
      j = semi < 0 ? text.length : semi + 1;
    } else {
      const semi = text.indexOf(';', j);
      value = (semi < 0 ? text.slice(j) : text.slice(j, semi)).trim();
      j = semi < 0 ? text.length : semi + 1;
    }
    if (key) out[key] = value;
    i = j;
  }
  return out;
}

export function findSettingsFile(explicit?: string): string | undefined {
  if (explicit) {
    if (!existsSync(explicit)) throw new SluiceError('ENG001', `Settings file ${explicit} does not exist.`);
    return explicit;
  }
  const env = process.env.SLUICE_SETTINGS;
  if (env) {
    if (!existsSync(env)) throw new SluiceError('ENG001', `Settings file ${env} (from SLUICE_SETTINGS) does not exist.`);
    return env;
  }
  const home = join(sluiceHome(), 'settings.xml');
  return existsSync(home) ? home : undefined;
}

function asArray<T>(x: T | T[] | undefined): T[] {
  if (x === undefined || x === null) return [];
  return Array.isArray(x) ? x : [x];
}

function readText(path: string): string {
  const buf = readFileSync(path);
  // settings.xml written by Windows tools is often UTF-16 with a BOM.
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  return buf.toString('utf8');
}

interface XmlNode {
  [key: string]: unknown;
}

export function parseSettingsXml(text: string, group?: string, connection?: string): ContainerConfig[] {
  // The declaration may claim utf-16 while the text is already decoded; drop it.
  const body = text.replace(/^\s*<\?xml[^>]*\?>/, '');
  const valid = XMLValidator.validate(body);
  if (valid !== true) {
    // The validator's message, on one line, with the place; never the parser's internals.
    const msg = valid.err.msg.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
    throw new SluiceError('ENG002', `The settings file is not valid XML at line ${valid.err.line}, column ${valid.err.col}: ${msg}.`, {
      hint: 'Check that every element is closed and attribute values are quoted.',
    });
  }
  let doc: XmlNode;
  try {
    doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => ['group', 'connection', 'database'].includes(name) }).parse(body) as XmlNode;
  } catch (e) {
    throw new SluiceError('ENG002', `The settings file is not valid XML: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
  const settings = doc.settings as XmlNode | undefined;
  if (!settings) throw new SluiceError('ENG002', 'The settings file has no <settings> element.');
  const groups = asArray(settings.group as XmlNode[] | undefined);
  const g = group ? groups.find((x) => String(x['@_name'] ?? '').toLowerCase() === group.toLowerCase()) : groups[0];
  if (!g) {
    if (group) throw new SluiceError('ENG003', `Settings group "${group}" not found.`, { hint: `Groups: ${groups.map((x) => String(x['@_name'])).join(', ')}` });
    return [];
  }
  const connections = asArray(g.connection as XmlNode[] | undefined);
  const c = connection ? connections.find((x) => String(x['@_name'] ?? '').toLowerCase() === connection.toLowerCase()) : connections[0];
  if (!c) {
    if (connection) throw new SluiceError('ENG003', `Settings connection "${connection}" not found.`, { hint: `Connections: ${connections.map((x) => String(x['@_name'])).join(', ')}` });
    return [];
  }
  return asArray(c.database as XmlNode[] | undefined).map((d) => {
    const alias = String(d['@_alias'] ?? '');
    const provider = String(d['@_provider'] ?? '');
    if (!alias || !provider) throw new SluiceError('ENG004', 'Every <database> in settings needs alias and provider attributes.');
    return { alias, provider, options: parseConnectionString(d['@_connectionString'] as string | undefined) };
  });
}

export function parseSettingsData(data: unknown): ContainerConfig[] {
  const root = (data ?? {}) as { containers?: unknown };
  const list = Array.isArray(root.containers) ? root.containers : [];
  return list.map((raw, i) => {
    const item = raw as { alias?: unknown; provider?: unknown; options?: unknown; connectionString?: unknown };
    if (typeof item.alias !== 'string' || typeof item.provider !== 'string') {
      throw new SluiceError('ENG004', `Container ${i + 1} in settings needs "alias" and "provider".`);
    }
    const options: Record<string, string> = parseConnectionString(typeof item.connectionString === 'string' ? item.connectionString : undefined);
    if (item.options && typeof item.options === 'object') {
      for (const [k, v] of Object.entries(item.options as Record<string, unknown>)) options[k.toLowerCase()] = String(v);
    }
    return { alias: item.alias, provider: item.provider, options };
  });
}

/** Containers from the settings file found by the lookup order (empty when there is none). */
export function loadSettings(path?: string, group?: string, connection?: string): ContainerConfig[] {
  const file = findSettingsFile(path);
  if (!file) return [];
  const text = readText(file);
  const lower = file.toLowerCase();
  if (lower.endsWith('.json')) {
    try {
      return parseSettingsData(JSON.parse(text));
    } catch (e) {
      if (e instanceof SluiceError) throw e;
      throw new SluiceError('ENG002', `The settings file ${file} is not valid JSON.`);
    }
  }
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return parseSettingsData(parseYaml(text));
  return parseSettingsXml(text, group, connection);
}
