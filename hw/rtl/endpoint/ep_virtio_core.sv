`default_nettype none

// The virtio logic of a PCI virtio endpoint (VirtioCore, CommonCfgLogic, QueueStore and the
// Transport of VirtioPciEndpointModel in the model): the external registers of virtio_common_cfg
// and the q_* registers of fw_csr over one store per queue, feature words, the FEATURES_OK check,
// device reset, config changes (generation, ISR, config vector) and the events the driver's
// writes raise. Events leave on one push port, held until granted; a register write that raises
// one is acknowledged with the grant, a status write pushes from a one-entry holding register.
module ep_virtio_core #(
  parameter int unsigned Queues  = 2,
  parameter int unsigned Vectors = 8
) (
  input  wire logic clk_i,
  input  wire logic rst_ni,
  input  wire virtio_common_cfg_reg_pkg::virtio_common_cfg_reg2hw_t common_reg2hw_i,
  output virtio_common_cfg_reg_pkg::virtio_common_cfg_hw2reg_t      common_hw2reg_o,
  input  wire fw_csr_reg_pkg::fw_csr_reg2hw_t                       fw_reg2hw_i,
  // fw_csr: what this logic drives of fw_csr's hw2reg (the rest is the endpoint's)
  output logic [63:0]         drv_features_o,
  output logic                drv_features_de_o,
  output logic [7:0]          device_status_o,
  output logic                device_status_de_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_max_size_t    q_max_size_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_state_t       q_state_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_msix_vector_t q_msix_vector_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_desc_t        q_desc_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_driver_t      q_driver_o,
  output fw_csr_reg_pkg::fw_csr_hw2reg_q_device_t      q_device_o,
  // Event push (kind, data), held until granted
  output logic                evt_push_o,
  output logic [7:0]          evt_kind_o,
  output logic [31:0]         evt_data_o,
  input  wire logic           evt_grant_i,
  // Interrupts
  output logic                isr_queue_set_o,   // ISR queue cause
  output logic                isr_config_set_o,  // ISR config cause
  output logic                isr_clear_o,       // device reset: the ISR clears
  output logic                msix_trigger_o,    // send the config vector
  output logic [15:0]         msix_vector_o,
  output logic                msix_clear_o,      // device reset: pending MSI-X messages are forgotten
  // Which queues exist (described, and given a size by firmware), for the notify region
  output logic [Queues-1:0]   queue_exists_o
);

  localparam int unsigned QW = Queues > 1 ? $clog2(Queues) : 1;
  localparam logic [15:0] NoVector = 16'hffff;
  localparam logic [7:0]  FeaturesOk = 8'h08;
  localparam logic [7:0]  NeedsReset = 8'h40;
  localparam int unsigned Version1 = 32;  // VIRTIO_F_VERSION_1

  // ---- storage ----
  logic [16*Queues-1:0]    max_size_q, size_q, vector_q;  // queue q in bits 16*q+15:16*q
  logic [Queues-1:0]       enabled_q, reset_pending_q;
  logic [64*Queues-1:0]    desc_q, driver_q, device_q;    // queue q in bits 64*q+63:64*q
  logic [63:0]             accepted_q;
  logic [7:0]              generation_q;
  logic                    status_wr_q;  // device_status was written last clock; q now holds it
  logic                    cfgvec_wr_q;  // config_msix_vector was written last clock
  logic                    status_evt_q; // STATUS_WRITE waiting for the FIFO
  logic [7:0]              status_evt_data_q;

  logic [16*Queues-1:0]    max_size_d, size_d, vector_d;
  logic [Queues-1:0]       enabled_d, reset_pending_d;
  logic [64*Queues-1:0]    desc_d, driver_d, device_d;
  logic [63:0]             accepted_d;
  logic [7:0]              generation_d;
  logic                    status_evt_d;
  logic [7:0]              status_evt_data_d;

  // (Functions in the Verilog-2005 form: Yosys 0.23 takes no 'return'.)
  function automatic [15:0] merge16(input [15:0] old, input [15:0] wdata, input [1:0] be);
    merge16 = {be[1] ? wdata[15:8] : old[15:8], be[0] ? wdata[7:0] : old[7:0]};
  endfunction

  function automatic [63:0] merge64(input [63:0] old, input [63:0] wdata, input [7:0] be);
    for (int b = 0; b < 8; b++) merge64[8*b+:8] = be[b] ? wdata[8*b+:8] : old[8*b+:8];
  endfunction

  function automatic [15:0] accept_vector(input [15:0] v);
    accept_vector = v < 16'(Vectors) ? v : NoVector;
  endfunction

  // ---- the selected queues ----
  logic [15:0] s_max, s_size, s_vector, fs_max, fs_size, fs_vector;
  logic [63:0] s_desc, s_driver, s_device, fs_desc, fs_driver, fs_device;
  logic        s_enabled, s_reset_pending, fs_enabled, fs_reset_pending;
  logic [15:0]   sel;       // queue_select (driver)
  logic [15:0]   fw_sel;    // q_sel (firmware)
  logic [QW-1:0] s, fs;
  logic          exists;    // the driver's queue exists
  logic          fw_in;     // the firmware's queue is described
  assign sel    = common_reg2hw_i.queue_select.queue_select.q;
  assign fw_sel = fw_reg2hw_i.q_sel.index.q;
  assign s      = sel[QW-1:0];
  assign fs     = fw_sel[QW-1:0];
  assign exists = sel < 16'(Queues) && s_max != 16'h0;
  assign fw_in  = fw_sel < 16'(Queues);

  // The driver's (s_*) and firmware's (fs_*) queue.
  ep_queue_sel #(.Queues(Queues), .QW(QW)) u_s (
    .idx_i(s), .max_size_i(max_size_q), .size_i(size_q), .vector_i(vector_q), .desc_i(desc_q),
    .driver_i(driver_q), .device_i(device_q), .enabled_i(enabled_q), .reset_pending_i(reset_pending_q),
    .max_size_o(s_max), .size_o(s_size), .vector_o(s_vector), .desc_o(s_desc), .driver_o(s_driver),
    .device_o(s_device), .enabled_o(s_enabled), .reset_pending_o(s_reset_pending)
  );
  ep_queue_sel #(.Queues(Queues), .QW(QW)) u_fs (
    .idx_i(fs), .max_size_i(max_size_q), .size_i(size_q), .vector_i(vector_q), .desc_i(desc_q),
    .driver_i(driver_q), .device_i(device_q), .enabled_i(enabled_q), .reset_pending_i(reset_pending_q),
    .max_size_o(fs_max), .size_o(fs_size), .vector_o(fs_vector), .desc_o(fs_desc), .driver_o(fs_driver),
    .device_o(fs_device), .enabled_o(fs_enabled), .reset_pending_o(fs_reset_pending)
  );

  always_comb begin
    for (int unsigned q = 0; q < Queues; q++) queue_exists_o[q] = max_size_q[16*(q) +: 16] != 16'h0;
  end

  // ---- events: one push port; a write that raises one waits for the grant ----
  logic        feat_evt, enable_evt, reset_evt;  // a register write wants to push
  logic [31:0] dsel;                             // driver_feature_select
  logic        sel_valid;
  assign dsel      = common_reg2hw_i.driver_feature_select.driver_feature_select.q;
  assign sel_valid = dsel < 32'd2;
  assign feat_evt   = common_reg2hw_i.driver_feature.we && sel_valid;
  assign enable_evt = common_reg2hw_i.queue_enable.we && common_reg2hw_i.queue_enable.wdata == 16'd1 &&
                      exists && !s_enabled;
  assign reset_evt  = common_reg2hw_i.queue_reset.we && common_reg2hw_i.queue_reset.wdata == 16'd1 &&
                      exists && !s_reset_pending;

  always_comb begin
    evt_push_o = 1'b1;
    evt_kind_o = 8'h0;
    evt_data_o = 32'h0;
    if (status_evt_q) begin
      evt_kind_o = fw_csr_reg_pkg::FW_EVENT_KIND_STATUS_WRITE;
      evt_data_o = 32'(status_evt_data_q);
    end else if (feat_evt) begin
      evt_kind_o = fw_csr_reg_pkg::FW_EVENT_KIND_FEATURES_WRITE;
      evt_data_o = dsel;
    end else if (enable_evt) begin
      evt_kind_o = fw_csr_reg_pkg::FW_EVENT_KIND_QUEUE_ENABLE;
      evt_data_o = 32'(sel);
    end else if (reset_evt) begin
      evt_kind_o = fw_csr_reg_pkg::FW_EVENT_KIND_QUEUE_RESET;
      evt_data_o = 32'(sel);
    end else begin
      evt_push_o = 1'b0;
    end
  end
  logic ext_grant;  // the register write's event (if any) is in the FIFO
  assign ext_grant = evt_grant_i && !status_evt_q;

  // ---- common_cfg external registers ----
  virtio_common_cfg_reg_pkg::virtio_common_cfg_hw2reg_t h;
  logic [63:0] dev_features;
  assign dev_features = fw_reg2hw_i.dev_features.offered.q;

  always_comb begin
    h = '0;
    h.device_feature.ack   = 1'b1;
    if (common_reg2hw_i.device_feature_select.device_feature_select.q == 32'd0) h.device_feature.rdata = dev_features[31:0];
    else if (common_reg2hw_i.device_feature_select.device_feature_select.q == 32'd1) h.device_feature.rdata = dev_features[63:32];
    else h.device_feature.rdata = 32'h0;
    h.driver_feature.ack   = !feat_evt || ext_grant;
    h.driver_feature.rdata = dsel == 32'd0 ? accepted_q[31:0] : dsel == 32'd1 ? accepted_q[63:32] : 32'h0;
    h.queue_size.ack          = 1'b1;
    h.queue_size.rdata        = exists ? s_size : 16'h0;
    h.queue_msix_vector.ack   = 1'b1;
    h.queue_msix_vector.rdata = exists ? s_vector : NoVector;
    h.queue_enable.ack        = !enable_evt || ext_grant;
    h.queue_enable.rdata      = 16'(exists && s_enabled);
    h.queue_notify_off.ack    = 1'b1;
    h.queue_notify_off.rdata  = exists ? sel : 16'h0;
    h.queue_desc.ack          = 1'b1;
    h.queue_desc.rdata        = exists ? s_desc : 64'h0;
    h.queue_driver.ack        = 1'b1;
    h.queue_driver.rdata      = exists ? s_driver : 64'h0;
    h.queue_device.ack        = 1'b1;
    h.queue_device.rdata      = exists ? s_device : 64'h0;
    h.queue_notify_data.ack   = 1'b1;
    h.queue_notify_data.rdata = exists ? sel : 16'h0;
    h.queue_reset.ack         = !reset_evt || ext_grant;
    h.queue_reset.rdata       = 16'(exists && s_reset_pending);
    h.num_queues.num_queues.d = 16'(Queues);
    h.num_queues.num_queues.de = 1'b1;
    h.config_generation.config_generation.d = generation_q;
    h.config_generation.config_generation.de = 1'b1;
  end

  // ---- device status, config vector, config changes ----
  logic [7:0] status;       // device_status as the block holds it
  logic       reset_dev;    // the driver wrote 0: device reset
  logic       features_ok;  // accepted features acceptable for FEATURES_OK
  logic       needs_reset;  // firmware's status_set
  logic       cfg_change;   // generation++, ISR config cause, config vector
  assign status      = common_reg2hw_i.device_status.device_status.q;
  assign reset_dev   = status_wr_q && status == 8'h0;
  assign features_ok = (accepted_q & ~dev_features) == 64'h0 && accepted_q[Version1];
  assign needs_reset = fw_reg2hw_i.status_set.needs_reset.q;
  assign cfg_change  = fw_reg2hw_i.isr_set.config_change.q || needs_reset;

  logic [7:0] kept;  // the status a driver write keeps
  assign kept = (status_wr_q && status != 8'h0 && (status & FeaturesOk) != 8'h0 && !features_ok) ?
                status & ~FeaturesOk : status;

  always_comb begin
    common_hw2reg_o = h;
    common_hw2reg_o.device_status.device_status.d = kept;
    common_hw2reg_o.device_status.device_status.de = 1'b0;
    if (status_wr_q && kept != status) common_hw2reg_o.device_status.device_status.de = 1'b1;
    if (needs_reset) begin
      common_hw2reg_o.device_status.device_status.d  = status | NeedsReset;
      common_hw2reg_o.device_status.device_status.de = 1'b1;
    end
    common_hw2reg_o.config_msix_vector.config_msix_vector.d = accept_vector(common_reg2hw_i.config_msix_vector.config_msix_vector.q);
    common_hw2reg_o.config_msix_vector.config_msix_vector.de = cfgvec_wr_q;
    if (reset_dev) begin
      common_hw2reg_o.config_msix_vector.config_msix_vector.d  = NoVector;
      common_hw2reg_o.config_msix_vector.config_msix_vector.de = 1'b1;
    end
  end

  assign device_status_o    = needs_reset ? status | NeedsReset : kept;
  assign device_status_de_o = status_wr_q || needs_reset;
  assign drv_features_o     = accepted_d;
  assign drv_features_de_o  = 1'b1;

  assign isr_queue_set_o  = fw_reg2hw_i.isr_set.queue.q;
  assign isr_config_set_o = cfg_change;
  assign isr_clear_o      = reset_dev;
  assign msix_clear_o     = reset_dev;
  assign msix_vector_o    = common_reg2hw_i.config_msix_vector.config_msix_vector.q;
  assign msix_trigger_o   = cfg_change && msix_vector_o != NoVector;

  // ---- firmware's q_* registers ----
  always_comb begin
    q_max_size_o.ack = 1'b1;
    q_max_size_o.rdata = fw_in ? 32'(fs_max) : 32'h0;
    q_state_o.ack = 1'b1;
    q_state_o.rdata = fw_in ? {14'h0, fs_reset_pending, fs_enabled, fs_size} : 32'h0;
    q_msix_vector_o.ack = 1'b1;
    q_msix_vector_o.rdata = fw_in ? 32'(fs_vector) : 32'(NoVector);
    q_desc_o.ack = 1'b1;
    q_desc_o.rdata = fw_in ? fs_desc : 64'h0;
    q_driver_o.ack = 1'b1;
    q_driver_o.rdata = fw_in ? fs_driver : 64'h0;
    q_device_o.ack = 1'b1;
    q_device_o.rdata = fw_in ? fs_device : 64'h0;
  end

  // ---- next state ----
  always_comb begin
    max_size_d        = max_size_q;
    size_d            = size_q;
    vector_d          = vector_q;
    enabled_d         = enabled_q;
    reset_pending_d   = reset_pending_q;
    desc_d            = desc_q;
    driver_d          = driver_q;
    device_d          = device_q;
    accepted_d        = accepted_q;
    generation_d      = generation_q;
    status_evt_d      = status_evt_q;
    status_evt_data_d = status_evt_data_q;

    if (status_evt_q && evt_grant_i) status_evt_d = 1'b0;

    // Driver writes of the selected queue (each acknowledged in the clock it is made).
    for (int unsigned q = 0; q < Queues; q++) begin
      if (exists && s == QW'(q)) begin
        if (common_reg2hw_i.queue_size.we && !enabled_q[q])
          size_d[16*q+:16] = merge16(s_size, common_reg2hw_i.queue_size.wdata, common_reg2hw_i.queue_size.be);
        if (common_reg2hw_i.queue_msix_vector.we)
          vector_d[16*q+:16] = accept_vector(merge16(s_vector, common_reg2hw_i.queue_msix_vector.wdata,
                                                     common_reg2hw_i.queue_msix_vector.be));
        if (common_reg2hw_i.queue_desc.we)
          desc_d[64*q+:64] = merge64(s_desc, common_reg2hw_i.queue_desc.wdata, common_reg2hw_i.queue_desc.be);
        if (common_reg2hw_i.queue_driver.we)
          driver_d[64*q+:64] = merge64(s_driver, common_reg2hw_i.queue_driver.wdata, common_reg2hw_i.queue_driver.be);
        if (common_reg2hw_i.queue_device.we)
          device_d[64*q+:64] = merge64(s_device, common_reg2hw_i.queue_device.wdata, common_reg2hw_i.queue_device.be);
        if (enable_evt && ext_grant) enabled_d[q] = 1'b1;
        if (reset_evt && ext_grant) reset_pending_d[q] = 1'b1;
      end
    end
    if (feat_evt && ext_grant) begin
      for (int unsigned b = 0; b < 8; b++) begin
        if (dsel[0] == b[2] && common_reg2hw_i.driver_feature.be[b%4])
          accepted_d[8*b+:8] = common_reg2hw_i.driver_feature.wdata[8*(b%4)+:8];
      end
    end

    // Firmware: q_max_size (a queue not yet enabled takes it as its size) and q_reset_done.
    for (int unsigned q = 0; q < Queues; q++) begin
      if (fw_in && fs == QW'(q)) begin
        if (fw_reg2hw_i.q_max_size.we) begin
          max_size_d[16*q+:16] = merge16(fs_max, fw_reg2hw_i.q_max_size.wdata[15:0], fw_reg2hw_i.q_max_size.be[1:0]);
          if (!enabled_q[q]) size_d[16*q+:16] = max_size_d[16*q+:16];
        end
        if (fw_reg2hw_i.q_reset_done.done.q && reset_pending_q[q]) begin
          size_d[16*q+:16]    = max_size_q[16*q+:16];
          vector_d[16*q+:16]  = NoVector;
          enabled_d[q]        = 1'b0;
          reset_pending_d[q]  = 1'b0;
          desc_d[64*q+:64]    = '0;
          driver_d[64*q+:64]  = '0;
          device_d[64*q+:64]  = '0;
        end
      end
    end

    // Device status written: 0 resets the device; firmware hears STATUS_WRITE with the value written.
    if (status_wr_q) begin
      status_evt_d      = 1'b1;
      status_evt_data_d = status;
      if (reset_dev) begin
        for (int unsigned q = 0; q < Queues; q++) begin
          size_d[16*(q) +: 16]          = max_size_q[16*(q) +: 16];
          vector_d[16*(q) +: 16]        = NoVector;
          enabled_d[q]       = 1'b0;
          reset_pending_d[q] = 1'b0;
          desc_d[64*(q) +: 64]          = '0;
          driver_d[64*(q) +: 64]        = '0;
          device_d[64*(q) +: 64]        = '0;
        end
        accepted_d = '0;
      end
    end
    if (cfg_change) generation_d = generation_q + 8'd1;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      max_size_q        <= '0;
      size_q            <= '0;
      vector_q          <= {Queues{NoVector}};
      enabled_q         <= '0;
      reset_pending_q   <= '0;
      desc_q            <= '0;
      driver_q          <= '0;
      device_q          <= '0;
      accepted_q        <= '0;
      generation_q      <= '0;
      status_wr_q       <= 1'b0;
      cfgvec_wr_q       <= 1'b0;
      status_evt_q      <= 1'b0;
      status_evt_data_q <= '0;
    end else begin
      max_size_q        <= max_size_d;
      size_q            <= size_d;
      vector_q          <= vector_d;
      enabled_q         <= enabled_d;
      reset_pending_q   <= reset_pending_d;
      desc_q            <= desc_d;
      driver_q          <= driver_d;
      device_q          <= device_d;
      accepted_q        <= accepted_d;
      generation_q      <= generation_d;
      status_wr_q       <= common_reg2hw_i.device_status.device_status.swmod;
      cfgvec_wr_q       <= common_reg2hw_i.config_msix_vector.config_msix_vector.swmod;
      status_evt_q      <= status_evt_d;
      status_evt_data_q <= status_evt_data_d;
    end
  end

endmodule

`default_nettype wire
