import { CoreSchema1795350000000 } from './1795350000000-core-schema';
import { ClientAssertionJtis1795360000000 } from './1795360000000-client-assertion-jtis';
import { UpstreamOutbox1795370000000 } from './1795370000000-upstream-outbox';
import { FamilyChangedGuard1795380000000 } from './1795380000000-family-changed-guard';
import { ClientRole1795390000000 } from './1795390000000-client-role';
import { TokenIntrospectionFields1795400000000 } from './1795400000000-token-introspection-fields';
import { TokenStatusFeed1795420000000 } from './1795420000000-token-status-feed';
import { SigningKeys1795410000000 } from './1795410000000-signing-keys';
import { JwtAccessTokens1795430000000 } from './1795430000000-jwt-access-tokens';
import { SsfStreams1795440000000 } from './1795440000000-ssf-streams';
import { SsfSets1795450000000 } from './1795450000000-ssf-sets';
import { TokenStatusTriggerLinear1795460000000 } from './1795460000000-token-status-trigger-linear';

/** Every migration, oldest first. Listed by hand so the build and the tests load the same set. */
export const migrations = [
  CoreSchema1795350000000,
  ClientAssertionJtis1795360000000,
  UpstreamOutbox1795370000000,
  FamilyChangedGuard1795380000000,
  ClientRole1795390000000,
  TokenIntrospectionFields1795400000000,
  SigningKeys1795410000000,
  TokenStatusFeed1795420000000,
  JwtAccessTokens1795430000000,
  SsfStreams1795440000000,
  SsfSets1795450000000,
  TokenStatusTriggerLinear1795460000000,
];
