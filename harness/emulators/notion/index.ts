/**
 * The Notion SCIM 2.0 emulator: an HTTP server that answers like `https://api.notion.com/scim/v2`
 * (paths, bodies, headers, status codes and the quirks in reference/notion-scim.md), with
 * test-only controls under `/_emulator/`.
 *
 * Choices where the real service's behaviour is unknown (the product must cope with every variant):
 * - profile change for an unverified email domain: 400 `mutability`;
 * - removing (DELETE, active=false) the token owner: 403;
 * - deleting a group that is a page's sole full-access holder: 409;
 * - adding a non-member to a group: 400 `invalidValue` naming the ids;
 * - removed members vanish from listings and GET by default (`removedUsersListed: false`), so
 *   PATCH active=true on one is a 404 and re-adding takes a POST.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { installControlPlane, type ControlPlane } from '../common/control';
import { close, listen, type ListenOptions } from '../common/server';
import { registerControlRoutes } from './control-routes';
import { installErrorHandlers, registerScimRoutes } from './routes';
import { SCIM_CONTENT_TYPE, scimErrorBody } from './scim';
import { NotionStore, type NotionConfig, type NotionSnapshot } from './store';

export type { NotionSnapshot } from './store';
export { SnapshotError } from '../common/snapshot';

export interface NotionEmulatorOptions {
  /** Default `local-notion-token` (SPEC §8). */
  token?: string;
  /** The token owner, always a member and never removable; default `owner@example.com`. */
  ownerEmail?: string;
  /** Default `["example.com"]`. */
  verifiedDomains?: string[];
  /** Default false: removed members vanish (404) rather than stay listed with `active:false`. */
  removedUsersListed?: boolean;
  /** Default false. */
  unstableOrdering?: boolean;
  /** Fastify's request logger; off by default (it would be the bottleneck). */
  logger?: boolean;
}

/** What `seed()` and `POST /_emulator/seed` load (users matched by userName, groups by displayName). */
export interface NotionSeed {
  /** `active: false`: an account that was removed from the workspace. */
  users?: {
    userName: string;
    givenName?: string;
    familyName?: string;
    formatted?: string;
    active?: boolean;
    role?: 'owner' | 'membership_admin' | 'member' | 'restricted_member';
  }[];
  /** `members` are userNames of current members; `soleOwner`: deletion is refused (409). */
  groups?: { displayName: string; members?: string[]; soleOwner?: boolean }[];
}

export interface NotionEmulator {
  app: FastifyInstance;
  control: ControlPlane;
  /** Resolves to the origin, e.g. `http://127.0.0.1:8420`; the SCIM base is origin + `/scim/v2`. */
  listen(options?: ListenOptions): Promise<string>;
  close(): Promise<void>;
  reset(): void;
  seed(seed: NotionSeed): void;
  state(): unknown;
  /**
   * The whole state as a JSON-serialisable document (`version: 1`): the token owner (id), every
   * account with its membership (active or removed), names, role and meta times, the groups with
   * their ids, members and soleOwner flag, and the configuration.
   */
  snapshot(): NotionSnapshot;
  /**
   * Replaces the state with a snapshot's, all or nothing; a malformed, inconsistent or foreign
   * snapshot is refused with a `SnapshotError` naming the problem. The token stays.
   */
  restore(snapshot: unknown): void;
  /** Changes whenever the state may have (to save a snapshot only when needed). */
  revision(): number;
  configure(
    patch: Partial<{
      verifiedDomains: string[];
      removedUsersListed: boolean;
      tokenValid: boolean;
      unstableOrdering: boolean;
      malformedUserIds: string[];
    }>,
  ): void;
}

export const NOTION_DEFAULTS = {
  token: 'local-notion-token',
  ownerEmail: 'owner@example.com',
  verifiedDomains: ['example.com'],
} as const;

export function createNotionEmulator(options: NotionEmulatorOptions = {}): NotionEmulator {
  const config: NotionConfig = {
    verifiedDomains: options.verifiedDomains ?? [...NOTION_DEFAULTS.verifiedDomains],
    removedUsersListed: options.removedUsersListed ?? false,
    tokenValid: true,
    unstableOrdering: options.unstableOrdering ?? false,
  };
  const store = new NotionStore({ ownerEmail: options.ownerEmail ?? NOTION_DEFAULTS.ownerEmail, config });
  const app = Fastify({ logger: options.logger ?? false });
  const control = installControlPlane(app, { errorBody: scimErrorBody, errorContentType: SCIM_CONTENT_TYPE });
  installErrorHandlers(app);
  registerScimRoutes(app, store, { token: options.token ?? NOTION_DEFAULTS.token });
  registerControlRoutes(app, store);

  return {
    app,
    control,
    listen: (listenOptions) => listen(app, listenOptions),
    close: () => close(app),
    reset: () => store.reset(),
    seed: (seed) => {
      store.seed(seed);
    },
    state: () => store.state(),
    snapshot: () => store.snapshot(),
    restore: (snapshot) => store.restore(snapshot),
    revision: () => store.revision,
    configure: (patch) => {
      store.configure(patch);
    },
  };
}
