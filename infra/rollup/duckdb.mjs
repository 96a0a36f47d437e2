// The daily rollup's GROUP BY in DuckDB, for `make bench-rollup` to time and to check our
// figures against: node duckdb.mjs OUT.ndjson FILE.ndjson.gz...
import { DuckDBInstance } from '@duckdb/node-api';

const [out, ...files] = process.argv.slice(2);
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const methods = ['FACE', 'QUICK_PAY', 'QR_CODE', 'JSAPI', 'IN_APP', 'H5'];
const sql = `
COPY (
  SELECT device_sn,
    count(*) FILTER (WHERE status = 'SUCCESS') AS success_count,
    coalesce(sum(amount_fen) FILTER (WHERE status = 'SUCCESS'), 0) AS success_amount_fen,
    count(DISTINCT payer) FILTER (WHERE status = 'SUCCESS') AS distinct_payers,
    count(DISTINCT payer) FILTER (WHERE status = 'SUCCESS' AND method = 'FACE' AND amount_fen >= 200) AS fee_payers,
    count(*) FILTER (WHERE status = 'FAILED') AS failed_count,
    count(*) FILTER (WHERE status = 'TIMEOUT') AS timeout_count,
    count(*) FILTER (WHERE status = 'REFUNDED') AS refunded_count,
    count(*) FILTER (WHERE method = 'FACE' AND amount_fen > 100000) AS over_limit_count,
    ${methods.map((m) => `count(*) FILTER (WHERE status = 'SUCCESS' AND method = '${m}') AS "m_${m}"`).join(',\n    ')}
  FROM read_json([${files.map(q).join(', ')}], format = 'newline_delimited', compression = 'gzip',
    columns = {txn_id: 'VARCHAR', device_sn: 'VARCHAR', merchant_id: 'VARCHAR', payer: 'VARCHAR',
               amount_fen: 'BIGINT', method: 'VARCHAR', status: 'VARCHAR', ts: 'BIGINT'})
  GROUP BY device_sn
) TO ${q(out)} (FORMAT json)`;

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
await conn.run(sql);
