/**
 * Whether text typed in the shell ends a statement: its last significant
 * character is a `;` outside strings, quoted names and comments.
 */
export function endsWithTerminator(text: string): boolean {
  let last = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? n : nl;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return false;
      i = close + 2;
      continue;
    }
    if (c === "'" || c === '"' || c === '[') {
      const closer = c === '[' ? ']' : c;
      let j = i + 1;
      for (;;) {
        const k = text.indexOf(closer, j);
        if (k < 0) return false;
        // '' and "" are escaped quotes inside their own kind of literal.
        if (closer !== ']' && text[k + 1] === closer) {
          j = k + 2;
          continue;
        }
        i = k + 1;
        break;
      }
      last = closer;
      continue;
    }
    if (!/\s/.test(c)) last = c;
    i++;
  }
  return last === ';';
}
