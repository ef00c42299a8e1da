/**
 * Which PostgreSQL errors mean "the database is away" (a 503, the store shown down) and which are
 * faults in what was asked (left as they are): no server needed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUnavailable } from '../../src/store/postgres/connection.ts';

const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

test('network errors, connection-class SQLSTATEs and pg’s own lost-connection errors are outages', () => {
  for (const e of [
    coded('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    coded('read ECONNRESET', 'ECONNRESET'),
    new AggregateError([coded('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''),
    coded('terminating connection due to administrator command', '57P01'),
    coded('the database system is starting up', '57P03'),
    coded('sorry, too many clients already', '53300'),
    coded('connection failure', '08006'),
    new Error('Connection terminated unexpectedly'),
    new Error('Connection terminated due to connection timeout'),
    new Error('Query read timeout'),
    new Error('timeout exceeded when trying to connect'),
  ]) {
    assert.equal(isUnavailable(e), true, e.message || String(e));
  }
});

test('constraint violations, syntax errors and serialization failures are not', () => {
  for (const e of [
    coded('duplicate key value violates unique constraint', '23505'),
    coded('syntax error at or near', '42601'),
    coded('could not serialize access', '40001'),
    new Error('something else'),
    'not an error',
  ]) {
    assert.equal(isUnavailable(e), false, String(e));
  }
});
