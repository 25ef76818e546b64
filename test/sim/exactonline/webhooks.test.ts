/**
 * Webhooks (platform facts): POST webhooks/WebhookSubscriptions validates
 * the callback with an empty POST; changes to the topic's entities arrive
 * as {"Content":{…},"HashCode":…} where HashCode is the uppercase hex
 * HMAC-SHA256 of the raw Content JSON with the webhook secret.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { errorText, setup } from './helpers.js';

describe('Exact simulator webhooks', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  let receiver: Server;
  let callbackUrl = '';
  const received: string[] = [];
  let waiters: (() => void)[] = [];

  before(async () => {
    env = await setup();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200).end();
        for (const w of waiters) w();
        waiters = [];
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    await env.sim.close();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  const waitFor = async (n: number) => {
    while (received.length < n) await new Promise<void>((r) => waiters.push(r));
  };

  it('validates the callback with an empty POST and sends signed notifications on changes', async () => {
    const sub = await env.send('POST', '/api/v1/102673/webhooks/WebhookSubscriptions', { CallbackURL: callbackUrl, Topic: 'Accounts' });
    assert.equal(sub.status, 201, sub.text);
    await waitFor(1);
    assert.equal(received[0], '', 'validation request has an empty body');
    const created = await env.send('POST', '/api/v1/102673/crm/Accounts', { Name: 'Webhook B.V.' });
    const id = String((created.json as { d: { ID: string } }).d.ID);
    await waitFor(2);
    const payload = JSON.parse(received[1]) as { Content: Record<string, unknown>; HashCode: string };
    assert.equal(payload.Content.Topic, 'Accounts');
    assert.equal(payload.Content.Action, 'Create');
    assert.equal(payload.Content.Key, id);
    assert.equal(payload.Content.Division, 102673);
    assert.equal(payload.Content.ClientId, env.sim.clientId);
    assert.match(String(payload.Content.ExactOnlineEndpoint), /\/api\/v1\/102673\/crm\/Accounts\(guid'/);
    const rawContent = /^\{"Content":(.*),"HashCode":"[0-9A-F]+"\}$/.exec(received[1])?.[1] ?? '';
    const expected = createHmac('sha256', env.sim.webhookSecret).update(rawContent).digest('hex').toUpperCase();
    assert.equal(payload.HashCode, expected);
    const wrong = createHmac('sha256', 'not-the-secret').update(rawContent).digest('hex').toUpperCase();
    assert.notEqual(payload.HashCode, wrong);
    await env.send('DELETE', `/api/v1/102673/crm/Accounts(guid'${id}')`);
    await waitFor(3);
    assert.equal((JSON.parse(received[2]) as { Content: { Action: string } }).Content.Action, 'Delete');
    // Contacts are another topic: nothing arrives for them.
    const [acc] = ((await env.get('/api/v1/102673/crm/Accounts?$select=ID&$top=1')).json as { d: { results: { ID: string }[] } }).d.results;
    await env.send('POST', '/api/v1/102673/crm/Contacts', { Account: acc.ID, LastName: 'Stil' });
    await env.send('PUT', `/api/v1/102673/crm/Accounts(guid'${acc.ID}')`, { Phone: '010-1234567' });
    await waitFor(4);
    assert.equal((JSON.parse(received[3]) as { Content: { Action: string; Key: string } }).Content.Key, acc.ID);
  });

  // A notification that never comes would otherwise hang the run: fail instead (a guard, not a measured time).
  it('notifies changes of an entity without a hand model (Quotations)', { timeout: 30_000 }, async () => {
    const before = received.length;
    const sub = await env.send('POST', '/api/v1/102673/webhooks/WebhookSubscriptions', { CallbackURL: callbackUrl, Topic: 'Quotations' });
    assert.equal(sub.status, 201, sub.text);
    await waitFor(before + 1);
    const [acc] = ((await env.get('/api/v1/102673/crm/Accounts?$select=ID&$top=1')).json as { d: { results: { ID: string }[] } }).d.results;
    const q = await env.send('POST', '/api/v1/102673/crm/Quotations', { OrderAccount: acc.ID, Description: 'Offerte' });
    assert.equal(q.status, 201, q.text);
    const qid = String((q.json as { d: { QuotationID: string } }).d.QuotationID);
    await waitFor(before + 2);
    const created = (JSON.parse(received[before + 1]) as { Content: Record<string, unknown> }).Content;
    assert.deepEqual([created.Topic, created.Action, created.Key], ['Quotations', 'Create', qid]);
    assert.match(String(created.ExactOnlineEndpoint), /\/crm\/Quotations\(guid'/);
  });

  it('refuses an unreachable callback URL and an unknown topic', async () => {
    const bad = await env.send('POST', '/api/v1/102673/webhooks/WebhookSubscriptions', { CallbackURL: 'http://127.0.0.1:1/nothing', Topic: 'Accounts' });
    assert.equal(bad.status, 500);
    assert.match(errorText(bad), /callback/i);
    const topic = await env.send('POST', '/api/v1/102673/webhooks/WebhookSubscriptions', { CallbackURL: callbackUrl, Topic: 'NoSuchTopic' });
    assert.equal(topic.status, 500);
  });
});
