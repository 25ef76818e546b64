/**
 * The registry of built-in providers: the one place that knows the concrete
 * providers, so the engine never imports one. Each provider module adds
 * itself to `builtinProviders`.
 */
import { SluiceError } from '../util/errors.js';
import type { Provider } from './types.js';
import { dataDictionaryProvider } from '../providers/datadictionary/index.js';
import { inMemoryStorageProvider } from '../providers/inmemory/index.js';
import { exactOnlineProvider } from '../providers/exactonline/index.js';
import { vismaNetProvider } from '../providers/vismanet/index.js';
import { filesProvider } from '../providers/files/index.js';
import { postgresProvider } from '../providers/postgres/index.js';
import { mariadbProvider } from '../providers/mariadb/index.js';

export const builtinProviders: readonly Provider[] = [
  inMemoryStorageProvider,
  dataDictionaryProvider,
  exactOnlineProvider,
  vismaNetProvider,
  filesProvider,
  postgresProvider,
  mariadbProvider,
];

/** Find a provider by its settings name, case-insensitively; extra providers win over built-ins. */
export function findProvider(name: string, extra: readonly Provider[] = []): Provider {
  const all = [...extra, ...builtinProviders];
  const found = all.find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (!found) {
    throw new SluiceError('ENG010', `Unknown provider "${name}".`, {
      hint: `Known providers: ${all.map((p) => p.name).join(', ') || '(none)'}.`,
    });
  }
  return found;
}
