/**
 * `jc-notion find <email | username | JumpCloud id | group name>` (issue 16, SPEC §8): the users'
 * and groups' workflows that match, their state and a link to each in the Temporal UI. Works with
 * personal search attributes in clear and hashed (SEARCH_ATTRIBUTES_PII): the CLI hashes what it
 * looks for with the workers' key, so nobody needs to know the search syntax or the hashes.
 */
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../../config/config';
import { isJumpCloudId, normalizeEmail } from '../../contracts/shared';
import { groupStateQuery, type GroupState } from '../../contracts/group';
import { userStateQuery, type UserState } from '../../contracts/user';
import { connectClient } from '../../temporal/connection';
import { EntityGateway, type EntityRecord } from '../../temporal/entities';
import { searchValue } from '../../temporal/search-keys';
import { CliError } from '../errors';
import { printJson, printLines, type OutputOptions } from '../output';
import { workflowUrl } from '../ui-links';

/** More matches than this means the term is too vague: the first ones are shown. */
const MATCH_LIMIT = 20;
/** A match's state is asked of its workflow; a worker that does not answer soon is skipped. */
const QUERY_TIMEOUT_MS = 5_000;

export interface FoundEntity {
  kind: 'user' | 'group';
  jumpcloudId?: string;
  username?: string;
  email?: string;
  name?: string;
  syncState?: string;
  notionId?: string;
  problem?: string;
  running: boolean;
  workflowId: string;
  runId: string;
  url: string;
}

/** The lookup for a term: each field it could be, as the search attributes hold it. */
function lookupFor(config: Config, term: string) {
  const value = term.trim();
  if (!value) throw new CliError('give an email, a username, a JumpCloud id or a group name');
  const plain = config.privacy.searchAttributes === 'plain';
  const published = (field: 'email' | 'username' | 'groupName', v: string) => searchValue(config, field, v);
  return {
    connectorId: config.connectorId,
    jumpcloudIds: isJumpCloudId(value) ? [value.toLowerCase()] : [],
    emails: value.includes('@') ? [published('email', plain ? normalizeEmail(value) : value)] : [],
    // Usernames are published as JumpCloud has them (plain mode): as typed and lower-cased.
    usernames: plain ? [value, value.toLowerCase()] : [published('username', value)],
    groupNames: [published('groupName', value)],
  };
}

async function describe(client: Client, config: Config, record: EntityRecord): Promise<FoundEntity> {
  const kind = record.kind === 'group' ? 'group' : 'user';
  const hashed = config.privacy.searchAttributes === 'hashed';
  const found: FoundEntity = {
    kind,
    jumpcloudId: record.jumpcloudId,
    // Hashes say nothing to a reader: the names come from the workflow's own state then.
    ...(hashed ? {} : { username: record.username, email: record.email, name: record.groupName }),
    syncState: record.syncState,
    notionId: record.notionId,
    running: record.running,
    workflowId: record.workflowId,
    runId: record.runId,
    url: workflowUrl(config, record.workflowId, record.runId),
  };
  if (!record.running) return found;
  const handle = client.workflow.getHandle(record.workflowId);
  const ask = <T>(query: Promise<T>) =>
    Promise.race([
      query,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), QUERY_TIMEOUT_MS).unref()),
    ]).catch(() => undefined);
  if (kind === 'user') {
    const state: UserState | undefined = await ask(handle.query(userStateQuery));
    if (state) {
      found.username = state.username ?? found.username;
      found.email = state.email ?? found.email;
      found.syncState = state.status;
      found.notionId = state.notionId ?? found.notionId;
      if (state.error) found.problem = `${state.error.code}: ${state.error.message}`;
    }
  } else {
    const state: GroupState | undefined = await ask(handle.query(groupStateQuery));
    if (state) {
      found.name = state.name ?? found.name;
      found.syncState = state.status;
      found.notionId = state.notionId ?? found.notionId;
      if (state.problem) found.problem = `${state.problem.code}: ${state.problem.message}`;
    }
  }
  return found;
}

export async function findEntities(client: Client, config: Config, term: string): Promise<FoundEntity[]> {
  const latest = new Map<string, EntityRecord>();
  for await (const record of new EntityGateway(client).lookup(lookupFor(config, term))) {
    const known = latest.get(record.workflowId);
    if (!known || known.startTime < record.startTime) latest.set(record.workflowId, record);
    if (latest.size > MATCH_LIMIT) break;
  }
  const records = [...latest.values()].slice(0, MATCH_LIMIT);
  return Promise.all(records.map((record) => describe(client, config, record)));
}

/** The error when nothing matches the term. */
export function noMatch(config: Config, term: string): CliError {
  return new CliError(
    `no user or group of connector "${config.connectorId}" matches "${term}" (an email, a username, a JumpCloud id or an exact group name)`,
  );
}

/** How a match is named: `user kate <kate@example.com>` or `group "Engineering"`. */
export function who(entity: FoundEntity): string {
  if (entity.kind === 'group') return `group "${entity.name ?? entity.jumpcloudId ?? '?'}"`;
  const email = entity.email ? ` <${entity.email}>` : '';
  return `user ${entity.username ?? entity.jumpcloudId ?? '?'}${email}`;
}

/** A match as `find` prints it (and `history` heads its log with): who, state, workflow, UI link. */
export function entityLines(entity: FoundEntity): string[] {
  return [
    `${who(entity)} (JumpCloud ${entity.jumpcloudId ?? '?'}): ${entity.syncState ?? 'unknown'}${entity.running ? '' : ', workflow closed'}${entity.notionId ? `, Notion ${entity.notionId}` : ''}`,
    ...(entity.problem ? [`  problem: ${entity.problem}`] : []),
    `  workflow ${entity.workflowId}`,
    `  ${entity.url}`,
  ];
}

export async function findCommand(term: string, options: OutputOptions): Promise<void> {
  const config = loadConfig('client');
  const client = await connectClient(config);
  try {
    const found = await findEntities(client, config, term);
    if (found.length === 0) throw noMatch(config, term);
    if (options.json) return printJson({ term, connectorId: config.connectorId, matches: found });
    printLines(found.flatMap(entityLines));
  } finally {
    await client.connection.close();
  }
}
