import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ioasidProtoPath } from '../../src/api/grpc/proto-path';

describe('ioasidProtoPath', () => {
  let root: string;

  before(async () => {
    // A container's layout: /app/proto beside /app/dist/src, no src/ and no repository.
    root = await mkdtemp(join(tmpdir(), 'ioasid-proto-'));
    await mkdir(join(root, 'proto', 'ioasid', 'v1'), { recursive: true });
    await writeFile(join(root, 'proto', 'ioasid', 'v1', 'ioasid.proto'), 'syntax = "proto3";\n');
    await mkdir(join(root, 'dist', 'src', 'api', 'grpc'), { recursive: true });
  });

  after(() => rm(root, { recursive: true, force: true }));

  it('finds proto/ above the compiled module, however deep', () => {
    assert.equal(ioasidProtoPath(join(root, 'dist', 'src', 'api', 'grpc')), join(root, 'proto', 'ioasid', 'v1', 'ioasid.proto'));
  });

  it("finds the repository's proto from this build", () => {
    assert.match(ioasidProtoPath(), /proto[/\\]ioasid[/\\]v1[/\\]ioasid\.proto$/);
  });

  it('says what is missing when there is no proto above', () => {
    assert.throws(() => ioasidProtoPath(tmpdir()), /proto.ioasid.v1.ioasid\.proto not found above/);
  });
});
