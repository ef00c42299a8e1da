/**
 * The store conformance suite against PostgreSQL (see test/helpers/services.ts), in a schema of its
 * own that is dropped afterwards.
 */
import { openStore } from '../../src/store/open.ts';
import { dropPgSchema, needs, pgSchemaUrl } from '../helpers/services.ts';
import { storeSuite } from './store-suite.ts';

const skip = await needs('postgres');
const { url, schema } = pgSchemaUrl();

storeSuite(
  'postgres',
  () => openStore(url),
  () => dropPgSchema(schema),
  { skip },
);
