import { buildTestApp } from '../helpers/app';
test('x', async () => {
  const t = await buildTestApp();
  const r = await t.http.get('/api/openapi.json');
  console.log(JSON.stringify(r.body, null, 1).slice(0, 9000));
  const d = await t.http.get('/api/docs');
  console.log(JSON.stringify(d.body.endpoints.map((e:any)=>[e.method,e.path,e.auth])));
  await t.close();
});
