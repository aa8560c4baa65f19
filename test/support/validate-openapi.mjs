// Validates an OpenAPI document file with @apidevtools/swagger-parser (an ES module, so it runs
// in its own Node process): exits 0 when it is valid and every $ref resolves, else prints why.
import SwaggerParser from '@apidevtools/swagger-parser';

try {
  await SwaggerParser.validate(process.argv[2]);
  console.log('valid');
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
