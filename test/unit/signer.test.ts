import { describe, expect, it } from 'vitest';
import { encodeQuery, percentEncode } from '../../src/ci/encoding.js';
import {
  buildHttpString,
  buildStringToSign,
  canonicalizePairs,
  computeSignature,
  deriveSignKey,
  formatKeyTime,
  parseKeyTime,
  signRequest,
} from '../../src/ci/signer.js';

// Published test vectors (see the project's reference notes on the q-sign scheme).
const credentials = {
  secretId: 'AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q',
  secretKey: 'BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz',
};
const sha1Hex = (s: string) => buildStringToSign('', s).split('\n')[2];

describe('percentEncode', () => {
  it('encodes everything but the unreserved set, space as %20 and the five sub-delims encodeURIComponent keeps', () => {
    expect(percentEncode("AZaz09-_.~ !'()*+/:,腾")).toBe('AZaz09-_.~%20%21%27%28%29%2A%2B%2F%3A%2C%E8%85%BE');
  });
});

describe('key time', () => {
  it('backdates one second and lasts 900 seconds by default', () => {
    expect(formatKeyTime(1_660_000_000_500)).toBe('1659999999;1660000899');
    expect(formatKeyTime(1_660_000_000_000, 60)).toBe('1659999999;1660000059');
  });
  it('parses only well-formed, ordered pairs', () => {
    expect(parseKeyTime('1;2')).toEqual({ start: 1, end: 2 });
    expect(parseKeyTime('2;1')).toBeUndefined();
    expect(parseKeyTime('1;x')).toBeUndefined();
    expect(parseKeyTime('')).toBeUndefined();
  });
});

describe('vector A (PUT with signed headers, no query)', () => {
  const keyTime = '1557989151;1557996351';
  const steps = signRequest(
    {
      method: 'PUT',
      path: '/exampleobject(腾讯云)',
      query: [],
      headers: [
        ['Content-Length', '13'],
        ['Content-MD5', 'mQ/fVh815F3k6TAUm8m0eg=='],
        ['Content-Type', 'text/plain'],
        ['Date', 'Thu, 16 May 2019 06:45:51 GMT'],
        ['Host', 'examplebucket-1250000000.cos.ap-beijing.myqcloud.com'],
        ['x-cos-acl', 'private'],
        ['x-cos-grant-read', 'uin="100000000011"'],
      ],
    },
    credentials,
    keyTime,
  );

  it('reproduces every intermediate string', () => {
    expect(steps.signKey).toBe('eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f');
    expect(steps.httpParameters).toBe('');
    expect(steps.urlParamList).toBe('');
    expect(steps.headerList).toBe(
      'content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read',
    );
    expect(steps.httpHeaders).toBe(
      'content-length=13&content-md5=mQ%2FfVh815F3k6TAUm8m0eg%3D%3D&content-type=text%2Fplain' +
        '&date=Thu%2C%2016%20May%202019%2006%3A45%3A51%20GMT' +
        '&host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com&x-cos-acl=private' +
        '&x-cos-grant-read=uin%3D%22100000000011%22',
    );
    expect(steps.httpString).toBe(`put\n/exampleobject(腾讯云)\n\n${steps.httpHeaders}\n`);
    expect(sha1Hex(steps.httpString)).toBe('8b2751e77f43a0995d6e9eb9477f4b685cca4172');
    expect(steps.stringToSign).toBe(`sha1\n${keyTime}\n8b2751e77f43a0995d6e9eb9477f4b685cca4172\n`);
    expect(steps.signature).toBe('3b8851a11a569213c17ba8fa7dcf2abec6935172');
  });

  it('formats the Authorization header', () => {
    expect(steps.authorization).toBe(
      `q-sign-algorithm=sha1&q-ak=${credentials.secretId}&q-sign-time=${keyTime}&q-key-time=${keyTime}` +
        '&q-header-list=content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read' +
        '&q-url-param-list=&q-signature=3b8851a11a569213c17ba8fa7dcf2abec6935172',
    );
  });
});

describe('vector B (GET with query)', () => {
  const keyTime = '1557989753;1557996953';
  const steps = signRequest(
    {
      method: 'GET',
      path: '/exampleobject(腾讯云)',
      query: [
        ['response-content-type', 'application/octet-stream'],
        ['response-cache-control', 'max-age=600'],
      ],
      headers: [
        ['Date', 'Thu, 16 May 2019 06:55:53 GMT'],
        ['Host', 'examplebucket-1250000000.cos.ap-beijing.myqcloud.com'],
      ],
    },
    credentials,
    keyTime,
  );

  it('reproduces every intermediate string', () => {
    expect(steps.signKey).toBe('937914bf490e9e8c189836aad2052e4feeb35eaf');
    expect(steps.urlParamList).toBe('response-cache-control;response-content-type');
    expect(steps.httpParameters).toBe(
      'response-cache-control=max-age%3D600&response-content-type=application%2Foctet-stream',
    );
    expect(steps.headerList).toBe('date;host');
    expect(steps.httpHeaders).toBe(
      'date=Thu%2C%2016%20May%202019%2006%3A55%3A53%20GMT&host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com',
    );
    expect(steps.httpString).toBe(
      `get\n/exampleobject(腾讯云)\n${steps.httpParameters}\n${steps.httpHeaders}\n`,
    );
    expect(sha1Hex(steps.httpString)).toBe('54ecfe22f59d3514fdc764b87a32d8133ea611e6');
    expect(steps.stringToSign).toBe(`sha1\n${keyTime}\n54ecfe22f59d3514fdc764b87a32d8133ea611e6\n`);
    expect(steps.signature).toBe('01681b8c9d798a678e43b685a9f1bba0f6c0e012');
  });
});

describe('vector C (list workflow executions)', () => {
  const keyTime = '1660000000;1660003600';
  const query = [
    ['workflowId', 'w093b29cfef824bd0922743a6f0afxxxx'],
    ['orderByTime', 'Desc'],
    ['size', '10'],
    ['states', 'Success,Failed'],
    ['startCreationTime', '2022-08-09T00:00:00+0800'],
    ['endCreationTime', '2022-08-10T00:00:00+0800'],
  ] as const;
  const host = 'examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com';
  const steps = signRequest(
    { method: 'GET', path: '/workflowexecution', query, headers: [['host', host]] },
    credentials,
    keyTime,
  );

  it('reproduces every intermediate string', () => {
    expect(steps.signKey).toBe(deriveSignKey(credentials.secretKey, keyTime));
    expect(steps.urlParamList).toBe('endcreationtime;orderbytime;size;startcreationtime;states;workflowid');
    expect(steps.headerList).toBe('host');
    expect(steps.httpString).toBe(
      'get\n/workflowexecution\nendcreationtime=2022-08-10T00%3A00%3A00%2B0800&orderbytime=Desc&size=10' +
        '&startcreationtime=2022-08-09T00%3A00%3A00%2B0800&states=Success%2CFailed' +
        `&workflowid=w093b29cfef824bd0922743a6f0afxxxx\nhost=${host}\n`,
    );
    expect(sha1Hex(steps.httpString)).toBe('929f823da799bfd3a13ab07aa55aa865558f929a');
    expect(steps.stringToSign).toBe(`sha1\n${keyTime}\n929f823da799bfd3a13ab07aa55aa865558f929a\n`);
    expect(steps.signature).toBe('91e5842d3e49f058113298764858257eb7b34d1a');
  });

  it('agrees with the step functions composed by hand', () => {
    const parameters = canonicalizePairs(query);
    const headers = canonicalizePairs([['host', host]]);
    const httpString = buildHttpString('GET', '/workflowexecution', parameters.canonical, headers.canonical);
    const signature = computeSignature(
      deriveSignKey(credentials.secretKey, keyTime),
      buildStringToSign(keyTime, httpString),
    );
    expect(signature).toBe('91e5842d3e49f058113298764858257eb7b34d1a');
  });
});

describe('vectors D–F', () => {
  const keyTime = '1795830382;1795831282';
  const host = 'examplebucket-1250000000.ci.ap-beijing.myqcloud.com';

  it('D: execution detail', () => {
    const steps = signRequest(
      { method: 'GET', path: '/workflowexecution/i1', query: [], headers: [['host', host]] },
      credentials,
      keyTime,
    );
    expect(steps.signature).toBe('c237b6337a56314b220043dc2be52cb3b5739760');
  });

  it('E: trigger, with a body-less POST signing content headers and a unicode object key', () => {
    const steps = signRequest(
      {
        method: 'POST',
        path: '/triggerworkflow',
        query: [
          ['workflowId', 'w1'],
          ['object', 'dir/测试 file.mp4'],
        ],
        headers: [
          ['content-length', '0'],
          ['content-type', 'application/xml'],
          ['host', host],
        ],
      },
      credentials,
      keyTime,
    );
    expect(steps.signature).toBe('b9b4359ad460a68540b524e5bfa66c685a44f018');
    expect(steps.headerList).toBe('content-length;content-type;host');
  });

  it('F: list with a page token holding a space and a slash, and its wire query', () => {
    const query = [
      ['workflowId', 'w1'],
      ['size', '3'],
      ['states', 'Running,Failed'],
      ['startCreationTime', '2022-08-09T14:54:17+0800'],
      ['nextToken', 'a b/c'],
    ] as const;
    const steps = signRequest(
      { method: 'GET', path: '/workflowexecution', query, headers: [['host', host]] },
      credentials,
      keyTime,
    );
    expect(steps.signature).toBe('93c62c5191c54390a5719ccb60ac1e139aa48b18');
    expect(encodeQuery(query)).toBe(
      '?workflowId=w1&size=3&states=Running%2CFailed&startCreationTime=2022-08-09T14%3A54%3A17%2B0800&nextToken=a%20b%2Fc',
    );
  });
});
