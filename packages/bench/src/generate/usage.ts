/** `palisade-bench gen`'s usage, apart from the command so `palisade-bench load` does not load the generator. */
import { PRESETS } from './world.js';

export const GEN_USAGE = `usage: palisade-bench gen [options]   (--out and/or --store)

size (override the preset):
  --preset <name>        ${Object.keys(PRESETS).join(' | ')} (default small; medium: 1,000 BUs / 10,000 users /
                         1M records; large: 10,000 BUs / 100,000 users / 10M records)
  --seed <n>             the seed everything is drawn from
  --bus <n>              business units
  --depth <n>            levels of the BU tree below the root (exact when there are enough BUs)
  --users <n>            users
  --records <n>          records of the user-owned tables (up to 10M and more: streamed)
  --share-ratio <r>      fraction of records shared, each with 1–3 principals (default 0.05)

shape and mixes:
  --tree <shape>         wide (near-complete, default) | deep (chains of --depth BUs) |
                         skewed (one child of the root holds 90% of the BUs)
  --teams <mix>          team types by weight (default owner:70,access:20,group:10)
  --team-count <n>       named teams (default one per 20 users)
  --team-size <n|a-b>    members per team (default 3-14)
  --roles <mix>          users' roles by weight (default salesperson:70,manager:20,support:7,auditor:3)
  --matrix <r>           fraction of users with a second role in another BU (default 0.05)
  --tables <list>        user-owned tables, records spread over them (default account,contact,opportunity)
  --org-tables <list>    organization-owned tables (default currency; "none" for none)
  --org-records <n>      records per organization-owned table (default 3)
  --hierarchy <s:d|off>  manager hierarchy: span direct reports, counted d levels down (default off)
  --secured-columns <n>  column security on the first table: n secured columns, profiles, field shares

output:
  --out <file>           where to write
  --format <json|msgpack>  default: from the file extension (.msgpack / .mpk), else json
  --store                import the world into the PostgreSQL store (after writing it; to a
                         temporary file when there is no --out)
  --database-url <url>   the store's PostgreSQL (default DATABASE_URL; else embedded)
  --data-dir <dir>       the embedded PostgreSQL's data directory (default .data/postgres)`;
