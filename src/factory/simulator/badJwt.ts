// What the production factory answers during badjwt chaos: one constant string, the same for every order.
// It has three dot-separated segments but is not a JWS: its header segment is 161 characters (not valid
// base64url) with a garbage prefix, its payload is a canned order for another vendor, and its signature is
// from a key that is not in the JWKS. Clients must treat it as a bad pizza. (Recorded: badjwt chaos order.)
export const PRODUCTION_BAD_JWT = [
  'deadxe6MTcb33f3ODgzOTgsImV4cCI6MTcxNzg3NDc5OCwiaXNzIjoiY3MzMjkuY2xpY2siLCJhbGciOiJSUzI1NiIsImtpZCI6IjE0bk5YT21',
  'jaWt6emlWZWNIcWE1UmMzOENPM1BVSmJuT2MzazJJdEtDZlEifQ.eyJ2ZW5kb3IiOnsiaWQiOiJ0YWNvTGVlIiwibmFtZSI6IlRlc3QgdmVuZG',
  '9yIiwiY2hhb3MiOiJ0aHJvdHRsZSJ9LCJkaW5lciI6eyJpZCI6MSwibmFtZSI6IuW4uOeUqOWQjeWtlyIsImVtYWlsIjoiYUBqd3QuY29tIn0s',
  'Im9yZGVyIjp7ImZyYW5jaGlzZUlkIjoxLCJzdG9yZUlkIjoxLCJpdGVtcyI6W3sibWVudUlkIjoxLCJkZXNjcmlwdGlvbiI6IlZlZ2dpZSIsIn',
  'ByaWNlIjowLjA1fV0sImlkIjoyMTI2fX0.uFu8dJZ7hpW-XiHTatzFqERAdjRBVKuHFr1ZzrvqBGXO6YN5ZG_QDeEttjJrGmUxTCwuNtoar-O1',
  'ccWQl5_bbdKSgHROdam8Wcz3kgj-TiV4EWDJMOxkNFBqTKWlXmzYgZeazDwpxImE1MfjV3oXHpkaM9_lStnT2Cgw1GDwz5MG5zXtGvQWp_8vfX',
  't2cSccrX7ph8Eqm-7vW7dbZ-auUciO-qmUoEE_lbBhlcWjrajp0rzn-ZvDH4GjyG4liDrVpoafVqwdSASbBO-t1l_xc2YDCdLBvtCFhf6ZafM6',
  'IOOP1xCFigsV6LXY0g3nPfVmBsnEE9p935cCrNwk650B5HhwlzlGZEaNxFhe5s1P-cSNJ-panpLTRwg9b-To0MV2qHJcWARA3Z8B-v2dm73aXo',
  'EaATGAiPC3-W1MuMsX3hJDcge8hIsp91xC0-9aOrAOmCSv-zSykTtq6YoG95XRRB87Wq8nD7Ykm1JNC27pv0QFWXkkVvXHUTNcJcUE3VeVesLP',
  'ks2AfInulzbArbNsYnoAqdr42x4Hw3Y54dy1FFLf1JObAqwD6cZR57Q7zOwLX7AwK8S3hMOMTlwWz1sajXD7umCxVORZ3Gl6B1ubEt66u394Ws',
  '9g76FA_2AR5-PdJgf6zBDnXxe81lBCrHjvN7RM4N6iIzPhcTfvTqbeef4',
].join('');
