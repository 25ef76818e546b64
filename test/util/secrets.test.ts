import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redact } from '../../src/util/secrets.js';

test('redact hides OAuth codes, tokens, secrets and passwords', () => {
  assert.equal(redact('http://localhost/cb?code=abc123&state=x'), 'http://localhost/cb?code=***&state=x');
  assert.equal(redact('grant_type=authorization_code&code=abc&client_secret=s3'), 'grant_type=authorization_code&code=***&client_secret=***');
  assert.equal(redact('refresh_token=rt1&access_token=at1'), 'refresh_token=***&access_token=***');
  assert.equal(redact('api-client-secret=s;api-refresh-token=r;password=p'), 'api-client-secret=***;api-refresh-token=***;password=***');
  assert.equal(redact('Authorization: Bearer eyJ.abc-def'), 'Authorization: Bearer ***');
});

test('redact leaves row keys and messages about a Code column alone', () => {
  const message = 'Nothing was written to Accounts: row 1 (Code=9002): missing mandatory Name.';
  assert.equal(redact(message), message);
  assert.equal(redact('at container eol, table Accounts, partition 102673, row Code=9002'), 'at container eol, table Accounts, partition 102673, row Code=9002');
  assert.equal(redact('filter AccountCode=1000 failed'), 'filter AccountCode=1000 failed');
});
