/**
 * The `VismaNet` provider (Visma.net Financials): connection options →
 * a VismaContainer over the generated catalog. Registered in
 * src/provider/registry.ts; imports only the provider contract, util and
 * the catalog.
 */
import type { Container, ContainerConfig, Provider, ProviderEnv } from '../../provider/types.js';
import { VismaContainer } from './container.js';
import { parseVismaOptions } from './options.js';

export { VismaContainer, PARTITION_COLUMN } from './container.js';
export { parseVismaOptions, DEFAULT_API_URL, DEFAULT_TOKEN_URL, type VismaOptions } from './options.js';

export const vismaNetProvider: Provider = {
  name: 'VismaNet',
  async connect(config: ContainerConfig, env: ProviderEnv): Promise<Container> {
    const options = parseVismaOptions(config.alias, config.options, env.secrets);
    return new VismaContainer(config.alias, options, env.clock, env.log);
  },
};
