import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PHOTO_MAX_BYTES, PhotoLimitError, photoKind, type PhotoStore } from '../incidents/photos.js';
import { UnknownIncidentError } from '../incidents/runtime.js';
import { ApiError, notFound } from './errors.js';
import type { IncidentRecorder } from './incident-commands.js';
import { errors } from './schemas/common.js';
import { binary, photoSaved } from './schemas/domain.js';

const photoFile = {
  description: 'the photo as it was sent',
  content: Object.fromEntries(['image/jpeg', 'image/png', 'image/webp'].map((t) => [t, { schema: binary }])),
};

// A photo from the scene attached to an incident (issue 18, part 6): the phone posts the
// image itself as the body (image/jpeg, png or webp, at most 8 MB); it is on disk, and named
// on the incident's timeline, before the 201. The report shows it.

const params = z.strictObject({ id: z.string().min(1).max(64) });
const photoParams = z.strictObject({
  id: z.string().min(1).max(64),
  name: z.string().regex(/^\d{1,3}\.(jpg|png|webp)$/, 'a photo name (1.jpg)'),
});
const query = z.strictObject({ caption: z.string().trim().max(200).optional() });
const photoSchema = { params: photoParams, response: { 200: photoFile, ...errors(400, 404) } };
const uploadSchema = {
  params,
  querystring: query,
  response: { 201: photoSaved, ...errors(400, 404, 409, 413, 415) },
};

export const incidentPhotoRoutes: FastifyPluginAsyncZod<{
  incidents: IncidentRecorder;
  photos: PhotoStore;
  now: () => number;
}> = async (app, opts) => {
  // Images arrive as raw bytes; nothing else parses them.
  app.addContentTypeParser(/^image\//, { parseAs: 'buffer', bodyLimit: PHOTO_MAX_BYTES }, (_request, body, done) =>
    done(null, body),
  );

  app.post(
    '/api/incidents/:id/photos',
    { schema: uploadSchema, bodyLimit: PHOTO_MAX_BYTES },
    async (request, reply) => {
      const { id } = request.params;
      let incident;
      try {
        incident = opts.incidents.get(id).incident;
      } catch (err) {
        throw err instanceof UnknownIncidentError ? notFound(err.message) : err;
      }
      if (incident.status === 'closed')
        throw new ApiError(409, 'closed', `incident ${id} is closed: nothing more can be recorded on it`);
      const body = request.body;
      if (!(body instanceof Buffer))
        throw new ApiError(
          415,
          'not_a_photo',
          'send the photo itself as the body, with Content-Type image/jpeg, image/png or image/webp',
        );
      const kind = photoKind(body);
      if (!kind) throw new ApiError(415, 'not_a_photo', 'the body is not a JPEG, PNG or WebP image');
      let name: string;
      try {
        name = await opts.photos.save(id, body, kind.ext);
      } catch (err) {
        throw err instanceof PhotoLimitError ? new ApiError(409, 'too_many_photos', err.message) : err;
      }
      const caption = request.query.caption || undefined;
      await opts.incidents.record(id, [
        {
          type: 'photo',
          by: request.principal!.username,
          name,
          mime: kind.mime,
          bytes: body.length,
          ...(caption ? { caption } : {}),
          at: opts.now(),
        },
      ]);
      return reply.code(201).send({ incident: id, name, bytes: body.length, mime: kind.mime });
    },
  );

  app.get('/api/incidents/:id/photos/:name', { schema: photoSchema }, async (request, reply) => {
    const photo = await opts.photos.read(request.params.id, request.params.name);
    if (!photo) throw notFound(`incident ${request.params.id} has no photo "${request.params.name}"`);
    return reply
      .type(photo.mime)
      .header('cache-control', 'private, max-age=86400')
      .header('x-content-type-options', 'nosniff')
      .send(photo.bytes);
  });
};
