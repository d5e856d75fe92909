// Run by pool-under-tsx.test.ts in a child `node`, after registering tsx the way bin/pophook.js does, to
// prove the parse thread also loads outside vitest. Prints the summary of one parse as JSON.
import { DEFAULT_PARSE_LIMITS, ParserPool } from '../../../src/payload/index.ts';
import { fixture, meta } from '../../fixtures/mime/corpus.ts';

const pool = new ParserPool({ size: 1, limits: DEFAULT_PARSE_LIMITS });
try {
  const { summary } = await pool.parse(fixture('attachments.eml'), meta());
  process.stdout.write(JSON.stringify(summary));
} finally {
  await pool.close();
}
