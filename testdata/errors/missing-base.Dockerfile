FROM nothere:1
RUN true
