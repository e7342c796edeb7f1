// The lab's user is one number: the image's USER and the owner of /data in the Dockerfile, the user
// docker-compose.yml's comments name, and LAB_UID, which the container entry drops to and the labs use.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LAB_UID, LAB_USER } from '@lab/runtime';
import { repoRoot } from './support/lab-containers.ts';

describe('the lab\'s user', () => {
  it('is LAB_UID in the Dockerfile (USER, the owner of /data) and in docker-compose.yml', () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, new RegExp(`^USER ${LAB_USER}$`, 'm'));
    assert.match(dockerfile, new RegExp(`chown ${LAB_USER} /data`));
    const compose = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
    const named = [...compose.matchAll(/uid (\d+)/g)].map((match) => Number(match[1]));
    assert.ok(named.length > 0 && named.every((uid) => uid === LAB_UID), `docker-compose.yml names uid ${named.join(', ')}`);
  });
});
