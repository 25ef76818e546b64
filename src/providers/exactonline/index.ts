/**
 * Provider `ExactOnlineAll`: Exact Online REST as a partitioned SQL container
 * (see docs/exactonline.md). Entry points: `exactOnlineProvider` for the
 * registry, `ExactContainer` for code that drives a container directly, and
 * the token/login helpers used by `sluice login` and `sluice token`.
 */
import { exactCatalog } from '../../catalogs/exactonline.js';
import type { Container, ContainerConfig, Provider, ProviderEnv } from '../../provider/types.js';
import { parseExactConfig } from './config.js';
import { ExactContainer, PROVIDER_NAME } from './container.js';

export { ExactContainer, PROVIDER_NAME } from './container.js';
export { parseExactConfig, type ExactConfig } from './config.js';
export { TokenManager, login, authorizeUrl, MIN_REFRESH_AGE_MS } from './oauth.js';
export { TokenStore } from './token-store.js';

export async function connectExact(config: ContainerConfig, env: ProviderEnv): Promise<ExactContainer> {
  const cfg = parseExactConfig(config.alias, config.options, env.secrets);
  const container = new ExactContainer(cfg, env, exactCatalog());
  // A refresh token in the connection string seeds an empty store (never overwrites).
  await container.tokens.seed(cfg.refreshToken);
  return container;
}

export const exactOnlineProvider: Provider = {
  name: PROVIDER_NAME,
  connect: (config: ContainerConfig, env: ProviderEnv): Promise<Container> => connectExact(config, env),
};
