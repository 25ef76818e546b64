/**
 * The SQL keywords the shell completes: the dialect's own list, so completion
 * never offers a word the parser does not know.
 */
export { KEYWORDS } from '../sql/index.js';
