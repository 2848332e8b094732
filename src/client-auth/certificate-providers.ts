import type { Provider } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { ClientCertificates, TrustedProxies } from './mtls';

/** The proxies believed and the certificates they forward (docs/api.md §5), for every listener that reads one. */
export const CERTIFICATE_PROVIDERS: Provider[] = [
  { provide: TrustedProxies, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new TrustedProxies(config.trustedProxies) },
  {
    provide: ClientCertificates,
    inject: [APP_CONFIG, TrustedProxies],
    useFactory: (config: AppConfig, proxies: TrustedProxies) =>
      new ClientCertificates({ header: config.mtlsClientCertHeader, proxies, trustAnchors: config.tls?.caFile !== undefined }),
  },
];
