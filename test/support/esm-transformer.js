// NestJS 12 and some of its dependencies ship ES modules only. Node loads them through
// require(esm); Jest's module system cannot, so this compiles ES-module files to CommonJS with
// Babel (dynamic import() becomes require) and hands every other file back untouched.
const { createTransformer } = require('babel-jest').default;

const babel = createTransformer({
  babelrc: false,
  configFile: false,
  plugins: [
    ['babel-plugin-transform-import-meta', { module: 'ES6' }],
    '@babel/plugin-transform-dynamic-import',
    '@babel/plugin-transform-modules-commonjs',
  ],
});

// Static ES-module syntax, or a dynamic import() (which Jest's vm cannot run in CommonJS either).
const ESM_SYNTAX = /^\s*(import\s*[\w{*'"]|export\s)|\bimport\(/m;

module.exports = {
  process(source, filename, options) {
    return ESM_SYNTAX.test(source) ? babel.process(source, filename, options) : { code: source };
  },
  getCacheKey(source, filename, options) {
    return `${ESM_SYNTAX.test(source) ? 'esm' : 'cjs'}:${babel.getCacheKey(source, filename, options)}`;
  },
};
