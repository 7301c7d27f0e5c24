FROM busybox:latest
RUN echo before
RUN echo failing && exit 3
