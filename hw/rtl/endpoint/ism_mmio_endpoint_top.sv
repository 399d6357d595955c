`default_nettype none

// The virtio-ism endpoint behind virtio-mmio (hw/endpoints/virtio-ism.yaml and its mmio placement,
// through the generated virtio_ism_ep_pkg; VirtioMmioEndpointModel in the model): the virtio-mmio
// register file with the SHM registers and the device configuration after it on mmio_, the BAR
// that holds the shared memory regions (the chunk window and the ISM notify area) on shm_, the
// firmware CSR port, the memory master behind the chunk window, and the interrupt: irq_o is the
// level (InterruptStatus not 0), and every cause firmware raises sends one message on the MSI
// output while msi_route_en_i is set, to msi_route_addr_i with msi_route_data_i, as the model's
// RouteInterrupt does (an interrupt controller that turns the wired line into MSIs). The mmio
// transport has no MSI-X: firmware's msix_trigger does nothing. hw/rtl/endpoint/README.md has the
// port contract.
module ism_mmio_endpoint_top #(
  parameter int unsigned MmioAw = 12,
  parameter int unsigned ShmAw  = virtio_ism_ep_pkg::BAR2_AW,
  parameter int unsigned FwAw   = 12
) (
  input  wire logic          clk_i,
  input  wire logic          rst_ni,
  // AXI4-Lite slave mmio_*
  input  wire logic [MmioAw-1:0] mmio_awaddr_i,
  input  wire logic          mmio_awvalid_i,
  output logic               mmio_awready_o,
  input  wire logic [31:0]   mmio_wdata_i,
  input  wire logic [3:0]    mmio_wstrb_i,
  input  wire logic          mmio_wvalid_i,
  output logic               mmio_wready_o,
  output logic [1:0]         mmio_bresp_o,
  output logic               mmio_bvalid_o,
  input  wire logic          mmio_bready_i,
  input  wire logic [MmioAw-1:0] mmio_araddr_i,
  input  wire logic          mmio_arvalid_i,
  output logic               mmio_arready_o,
  output logic [31:0]        mmio_rdata_o,
  output logic [1:0]         mmio_rresp_o,
  output logic               mmio_rvalid_o,
  input  wire logic          mmio_rready_i,
  // AXI4-Lite slave shm_*
  input  wire logic [ShmAw-1:0] shm_awaddr_i,
  input  wire logic          shm_awvalid_i,
  output logic               shm_awready_o,
  input  wire logic [31:0]   shm_wdata_i,
  input  wire logic [3:0]    shm_wstrb_i,
  input  wire logic          shm_wvalid_i,
  output logic               shm_wready_o,
  output logic [1:0]         shm_bresp_o,
  output logic               shm_bvalid_o,
  input  wire logic          shm_bready_i,
  input  wire logic [ShmAw-1:0] shm_araddr_i,
  input  wire logic          shm_arvalid_i,
  output logic               shm_arready_o,
  output logic [31:0]        shm_rdata_o,
  output logic [1:0]         shm_rresp_o,
  output logic               shm_rvalid_o,
  input  wire logic          shm_rready_i,
  // AXI4-Lite slave fw_*
  input  wire logic [FwAw-1:0] fw_awaddr_i,
  input  wire logic          fw_awvalid_i,
  output logic               fw_awready_o,
  input  wire logic [31:0]   fw_wdata_i,
  input  wire logic [3:0]    fw_wstrb_i,
  input  wire logic          fw_wvalid_i,
  output logic               fw_wready_o,
  output logic [1:0]         fw_bresp_o,
  output logic               fw_bvalid_o,
  input  wire logic          fw_bready_i,
  input  wire logic [FwAw-1:0] fw_araddr_i,
  input  wire logic          fw_arvalid_i,
  output logic               fw_arready_o,
  output logic [31:0]        fw_rdata_o,
  output logic [1:0]         fw_rresp_o,
  output logic               fw_rvalid_o,
  input  wire logic          fw_rready_i,
  // Memory master: chunk window accesses, in backing memory
  output logic               mem_req_o,
  output logic               mem_sys_o,   // the request is for host system memory (a system-memory chunk slot)
  output logic               mem_we_o,
  output logic [63:0]        mem_addr_o,
  output logic [3:0]         mem_be_o,
  output logic [31:0]        mem_wdata_o,
  input  wire logic          mem_ack_i,
  input  wire logic [31:0]   mem_rdata_i,
  // Interrupt messages: one per cause raised while routed
  output logic               msi_valid_o,
  input  wire logic          msi_ready_i,
  output logic [63:0]        msi_addr_o,
  output logic [31:0]        msi_data_o,
  input  wire logic          msi_route_en_i,
  input  wire logic [63:0]   msi_route_addr_i,
  input  wire logic [31:0]   msi_route_data_i,
  // The interrupt level: InterruptStatus is not 0
  output logic               irq_o,
  // The firmware event FIFO is not empty
  output logic               fw_irq_o
);

  localparam int unsigned Queues = virtio_ism_ep_pkg::QUEUES;

  // Structure windows inside the BARs (the description places each in one BAR).
  function automatic in_window(input [63:0] addr, input [63:0] offset, input [63:0] length);
    in_window = addr >= offset && addr - offset < length;
  endfunction

  // ---- host ports into register blocks and local targets ----
  logic [MmioAw-1:0]      mmio_dec_addr, mmio_m_addr;
  logic                mmio_dec_we;
  logic [1:0]        mmio_dec_sel;
  logic [31:0]         mmio_m_wdata;
  logic [3:0]          mmio_m_wstrb;
  logic [1:0]        mmio_m_awvalid, mmio_m_awready, mmio_m_wvalid, mmio_m_wready;
  logic [1:0]        mmio_m_bvalid, mmio_m_bready, mmio_m_arvalid, mmio_m_arready;
  logic [63:0]      mmio_m_rdata;
  logic [1:0]        mmio_m_rvalid, mmio_m_rready;
  logic                mmio_loc_req, mmio_loc_ack;
  logic [31:0]         mmio_loc_rdata;
  logic [ShmAw-1:0]      shm_dec_addr, shm_m_addr;
  logic                shm_dec_we;
  logic [0:0]        shm_dec_sel;
  logic [31:0]         shm_m_wdata;
  logic [3:0]          shm_m_wstrb;
  logic [0:0]        shm_m_awvalid, shm_m_awready, shm_m_wvalid, shm_m_wready;
  logic [0:0]        shm_m_bvalid, shm_m_bready, shm_m_arvalid, shm_m_arready;
  logic [31:0]      shm_m_rdata;
  logic [0:0]        shm_m_rvalid, shm_m_rready;
  logic                shm_loc_req, shm_loc_ack;
  logic [31:0]         shm_loc_rdata;
  virtio_mmio_reg_pkg::virtio_mmio_reg2hw_t                 mmio_reg2hw;
  virtio_mmio_reg_pkg::virtio_mmio_hw2reg_t                 mmio_hw2reg, core_hw2reg;
  ism_config_reg_pkg::ism_config_reg2hw_t                   devcfg_reg2hw;
  ism_config_reg_pkg::ism_config_hw2reg_t                   devcfg_hw2reg;
  fw_csr_reg_pkg::fw_csr_reg2hw_t                           fw_csr_reg2hw;
  fw_csr_reg_pkg::fw_csr_hw2reg_t                           fw_csr_hw2reg;

  // The flat ports as AXI4-Lite structs.
  axil_pkg::axil_req_t mmio_req, shm_req, fw_req;
  axil_pkg::axil_rsp_t mmio_rsp, shm_rsp, fw_rsp;
  `AXIL_FLAT_SLAVE(mmio_, mmio_req, mmio_rsp)
  `AXIL_FLAT_SLAVE(shm_, shm_req, shm_rsp)
  `AXIL_FLAT_SLAVE(fw_, fw_req, fw_rsp)

  ep_axil_demux #(.N(2), .AW(MmioAw)) u_mmio_demux (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_req_i         (mmio_req),
    .s_rsp_o         (mmio_rsp),
    .dec_addr_o      (mmio_dec_addr),
    .dec_we_o        (mmio_dec_we),
    .dec_sel_i       (mmio_dec_sel),
    .m_addr_o        (mmio_m_addr),
    .m_wdata_o       (mmio_m_wdata),
    .m_wstrb_o       (mmio_m_wstrb),
    .m_awvalid_o     (mmio_m_awvalid),
    .m_awready_i     (mmio_m_awready),
    .m_wvalid_o      (mmio_m_wvalid),
    .m_wready_i      (mmio_m_wready),
    .m_bvalid_i      (mmio_m_bvalid),
    .m_bready_o      (mmio_m_bready),
    .m_arvalid_o     (mmio_m_arvalid),
    .m_arready_i     (mmio_m_arready),
    .m_rdata_i       (mmio_m_rdata),
    .m_rvalid_i      (mmio_m_rvalid),
    .m_rready_o      (mmio_m_rready),
    .loc_req_o       (mmio_loc_req),
    .loc_ack_i       (mmio_loc_ack),
    .loc_rdata_i     (mmio_loc_rdata)
  );

  ep_axil_demux #(.N(1), .AW(ShmAw)) u_shm_demux (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_req_i         (shm_req),
    .s_rsp_o         (shm_rsp),
    .dec_addr_o      (shm_dec_addr),
    .dec_we_o        (shm_dec_we),
    .dec_sel_i       (shm_dec_sel),
    .m_addr_o        (shm_m_addr),
    .m_wdata_o       (shm_m_wdata),
    .m_wstrb_o       (shm_m_wstrb),
    .m_awvalid_o     (shm_m_awvalid),
    .m_awready_i     (shm_m_awready),
    .m_wvalid_o      (shm_m_wvalid),
    .m_wready_i      (shm_m_wready),
    .m_bvalid_i      (shm_m_bvalid),
    .m_bready_o      (shm_m_bready),
    .m_arvalid_o     (shm_m_arvalid),
    .m_arready_i     (shm_m_arready),
    .m_rdata_i       (shm_m_rdata),
    .m_rvalid_i      (shm_m_rvalid),
    .m_rready_o      (shm_m_rready),
    .loc_req_o       (shm_loc_req),
    .loc_ack_i       (shm_loc_ack),
    .loc_rdata_i     (shm_loc_rdata)
  );

  // ---- the register window: virtio-mmio registers, then the device configuration ----

  localparam logic [63:0] DevcfgAt = 64'(virtio_mmio_reg_pkg::VIRTIO_MMIO_SIZE);
  logic [63:0] mmio_addr;
  assign mmio_addr = 64'(mmio_dec_addr);
  always_comb begin
    mmio_dec_sel = '0;
    mmio_dec_sel[0] = mmio_addr < DevcfgAt;
    mmio_dec_sel[1] = in_window(mmio_addr, DevcfgAt, 64'(ism_config_reg_pkg::ISM_CONFIG_SIZE));
  end
  assign mmio_loc_ack   = mmio_loc_req;
  assign mmio_loc_rdata = 32'h0;

  virtio_mmio_reg_top #(.AW(MmioAw)) u_mmio (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (mmio_m_addr),
    .s_axil_awvalid_i(mmio_m_awvalid[0]),
    .s_axil_awready_o(mmio_m_awready[0]),
    .s_axil_wdata_i  (mmio_m_wdata),
    .s_axil_wstrb_i  (mmio_m_wstrb),
    .s_axil_wvalid_i (mmio_m_wvalid[0]),
    .s_axil_wready_o (mmio_m_wready[0]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (mmio_m_bvalid[0]),
    .s_axil_bready_i (mmio_m_bready[0]),
    .s_axil_araddr_i (mmio_m_addr),
    .s_axil_arvalid_i(mmio_m_arvalid[0]),
    .s_axil_arready_o(mmio_m_arready[0]),
    .s_axil_rdata_o  (mmio_m_rdata[32*0+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (mmio_m_rvalid[0]),
    .s_axil_rready_i (mmio_m_rready[0]),
    .reg2hw_o        (mmio_reg2hw),
    .hw2reg_i        (mmio_hw2reg)
  );

  ism_config_reg_top #(.AW(MmioAw)) u_devcfg (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (MmioAw'(mmio_m_addr - MmioAw'(DevcfgAt))),
    .s_axil_awvalid_i(mmio_m_awvalid[1]),
    .s_axil_awready_o(mmio_m_awready[1]),
    .s_axil_wdata_i  (mmio_m_wdata),
    .s_axil_wstrb_i  (mmio_m_wstrb),
    .s_axil_wvalid_i (mmio_m_wvalid[1]),
    .s_axil_wready_o (mmio_m_wready[1]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (mmio_m_bvalid[1]),
    .s_axil_bready_i (mmio_m_bready[1]),
    .s_axil_araddr_i (MmioAw'(mmio_m_addr - MmioAw'(DevcfgAt))),
    .s_axil_arvalid_i(mmio_m_arvalid[1]),
    .s_axil_arready_o(mmio_m_arready[1]),
    .s_axil_rdata_o  (mmio_m_rdata[32*1+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (mmio_m_rvalid[1]),
    .s_axil_rready_i (mmio_m_rready[1]),
    .reg2hw_o        (devcfg_reg2hw),
    .hw2reg_i        (devcfg_hw2reg)
  );

  // The SHM registers: the region SHMSel names (a shmid up to 255), all-ones for an unused one.
  logic [31:0] shm_sel;
  logic [63:0] shm_len, shm_base;
  assign shm_sel = mmio_reg2hw.shm_sel.shm_sel.q;
  always_comb begin
    shm_len  = '1;
    shm_base = '1;
    if (shm_sel == 32'(virtio_ism_ep_pkg::CHUNKS_SHMID)) begin
      shm_len  = virtio_ism_ep_pkg::CHUNKS_LENGTH;
      shm_base = virtio_ism_ep_pkg::MMIO_SHM_BASE + virtio_ism_ep_pkg::CHUNKS_OFFSET;
    end else if (shm_sel == 32'(virtio_ism_ep_pkg::NOTIFY_AREA_SHMID)) begin
      shm_len  = virtio_ism_ep_pkg::NOTIFY_AREA_LENGTH;
      shm_base = virtio_ism_ep_pkg::MMIO_SHM_BASE + virtio_ism_ep_pkg::NOTIFY_AREA_OFFSET;
    end
  end

  always_comb begin
    mmio_hw2reg = core_hw2reg;
    mmio_hw2reg.device_id.device_id.d = 32'(virtio_ism_ep_pkg::VIRTIO_DEVICE_ID);
    mmio_hw2reg.device_id.device_id.de = 1'b1;
    mmio_hw2reg.vendor_id.vendor_id.d = 32'(virtio_ism_ep_pkg::VENDOR_ID);
    mmio_hw2reg.vendor_id.vendor_id.de = 1'b1;
    mmio_hw2reg.shm_len_low.ack = 1'b1;
    mmio_hw2reg.shm_len_low.rdata = shm_len[31:0];
    mmio_hw2reg.shm_len_high.ack = 1'b1;
    mmio_hw2reg.shm_len_high.rdata = shm_len[63:32];
    mmio_hw2reg.shm_base_low.ack = 1'b1;
    mmio_hw2reg.shm_base_low.rdata = shm_base[31:0];
    mmio_hw2reg.shm_base_high.ack = 1'b1;
    mmio_hw2reg.shm_base_high.rdata = shm_base[63:32];
  end

  // Device configuration: firmware writes the values through fw_csr.
  ep_ism_devcfg u_devcfg_values (
    .clk_i          (clk_i),
    .rst_ni         (rst_ni),
    .fw_reg2hw_i    (fw_csr_reg2hw),
    .devcfg_hw2reg_o(devcfg_hw2reg)
  );

  // ---- the virtio logic ----

  logic             core_push, core_grant;
  logic [7:0]       core_kind;
  logic [31:0]      core_data;
  logic [1:0]       raise;
  logic [63:0]      drv_features;
  logic             drv_features_de;
  logic [7:0]       device_status;
  logic             device_status_de;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_max_size_t    q_max_size;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_state_t       q_state;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_msix_vector_t q_msix_vector;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_desc_t        q_desc;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_driver_t      q_driver;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_device_t      q_device;

  ep_virtio_mmio_core #(.Queues(Queues)) u_core (
    .clk_i             (clk_i),
    .rst_ni            (rst_ni),
    .mmio_reg2hw_i     (mmio_reg2hw),
    .mmio_hw2reg_o     (core_hw2reg),
    .fw_reg2hw_i       (fw_csr_reg2hw),
    .drv_features_o    (drv_features),
    .drv_features_de_o (drv_features_de),
    .device_status_o   (device_status),
    .device_status_de_o(device_status_de),
    .q_max_size_o      (q_max_size),
    .q_state_o         (q_state),
    .q_msix_vector_o   (q_msix_vector),
    .q_desc_o          (q_desc),
    .q_driver_o        (q_driver),
    .q_device_o        (q_device),
    .evt_push_o        (core_push),
    .evt_kind_o        (core_kind),
    .evt_data_o        (core_data),
    .evt_grant_i       (core_grant),
    .raise_o           (raise)
  );

  // ---- the interrupt: the level, and one message per cause raised while routed ----

  assign irq_o = mmio_reg2hw.interrupt_status.used_buffer.q || mmio_reg2hw.interrupt_status.config_change.q;

  logic [7:0] msg_count_q, msg_count_d;  // messages waiting for the MSI output (they are all alike)
  logic       msg_valid_q;
  always_comb begin
    msg_count_d = msg_count_q;
    if (msg_valid_q && msi_ready_i) msg_count_d = msg_count_d - 8'd1;
    if (msi_route_en_i && msg_count_d <= 8'hfd) msg_count_d = msg_count_d + 8'(raise);
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      msg_count_q <= '0;
      msg_valid_q <= 1'b0;
    end else begin
      msg_count_q <= msg_count_d;
      msg_valid_q <= msg_count_d != 8'h0;
    end
  end
  assign msi_valid_o = msg_valid_q;
  assign msi_addr_o  = msi_route_addr_i;
  assign msi_data_o  = msi_route_data_i;

  // ---- the shared memory BAR: the chunk window, and the ISM notify area pushing ISM_KICK ----

  logic [63:0] shm_addr;
  logic        shm_window, shm_notify;
  logic        chunk_ack;
  logic [31:0] chunk_rdata;
  assign shm_addr      = 64'(shm_dec_addr);
  assign shm_dec_sel   = '0;
  assign shm_window    = in_window(shm_addr, virtio_ism_ep_pkg::CHUNKS_OFFSET, virtio_ism_ep_pkg::CHUNKS_LENGTH);
  assign shm_notify    = in_window(shm_addr, virtio_ism_ep_pkg::NOTIFY_AREA_OFFSET, virtio_ism_ep_pkg::NOTIFY_AREA_LENGTH);
  assign shm_m_awready = '0;
  assign shm_m_wready  = '0;
  assign shm_m_bvalid  = '0;
  assign shm_m_arready = '0;
  assign shm_m_rdata   = '0;
  assign shm_m_rvalid  = '0;

  localparam int unsigned SlotBits = $clog2(virtio_ism_ep_pkg::CHUNKS_SLOTS) + virtio_ism_ep_pkg::CHUNKS_SHIFT;
  logic [63:0] chunk_off;
  assign chunk_off = shm_addr - virtio_ism_ep_pkg::CHUNKS_OFFSET;

  ep_chunk_window #(
    .Slots       (virtio_ism_ep_pkg::CHUNKS_SLOTS),
    .ChunkShift  (virtio_ism_ep_pkg::CHUNKS_SHIFT),
    .BackingShift(virtio_ism_ep_pkg::BACKING_SHIFT)
  ) u_chunks (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .commit_i      (fw_csr_reg2hw.chunk_commit.commit.q),
    .commit_index_i(fw_csr_reg2hw.chunk_index.index.q),
    .commit_addr_i (fw_csr_reg2hw.chunk_addr.addr.q),
    .commit_read_i (fw_csr_reg2hw.chunk_perm.read.q),
    .commit_write_i(fw_csr_reg2hw.chunk_perm.write.q),
    .commit_valid_i(fw_csr_reg2hw.chunk_perm.valid.q),
    .commit_system_i(fw_csr_reg2hw.chunk_perm.system.q),
    .bus_master_i  (1'b1),
    .req_i         (shm_loc_req && shm_window),
    .we_i          (shm_dec_we),
    .offset_i      (chunk_off[SlotBits-1:0]),
    .wdata_i       (shm_m_wdata),
    .be_i          (shm_m_wstrb),
    .ack_o         (chunk_ack),
    .rdata_o       (chunk_rdata),
    .mem_req_o     (mem_req_o),
    .mem_sys_o     (mem_sys_o),
    .mem_we_o      (mem_we_o),
    .mem_addr_o    (mem_addr_o),
    .mem_be_o      (mem_be_o),
    .mem_wdata_o   (mem_wdata_o),
    .mem_ack_i     (mem_ack_i),
    .mem_rdata_i   (mem_rdata_i)
  );

  // ---- the firmware event FIFO: virtio logic (port 0), ISM notify area (1) ----

  logic [1:0]       evt_push, evt_grant;
  logic [15:0]      evt_kind;  // port i in bits 8*i+7:8*i
  logic [63:0]      evt_data;  // port i in bits 32*i+31:32*i

  logic [63:0] kick_off;
  assign kick_off = shm_addr - virtio_ism_ep_pkg::NOTIFY_AREA_OFFSET;

  assign evt_push[0] = core_push;
  assign evt_kind[0+:8] = core_kind;
  assign evt_data[0+:32] = core_data;
  assign core_grant  = evt_grant[0];
  assign evt_push[1] = shm_loc_req && shm_dec_we && shm_notify;
  assign evt_kind[8+:8] = fw_csr_reg_pkg::FW_EVENT_KIND_ISM_KICK;
  assign evt_data[32+:32] = 32'(kick_off >> virtio_ism_ep_pkg::NOTIFY_AREA_SHIFT);

  assign shm_loc_ack   = shm_window ? chunk_ack : shm_loc_req && (!evt_push[1] || evt_grant[1]);
  assign shm_loc_rdata = shm_window ? chunk_rdata : 32'h0;


  // ---- the firmware CSR port ----

  ep_fw_port #(
    .FwAw          (FwAw),
    .EventDepth    (virtio_ism_ep_pkg::EVENT_FIFO_DEPTH),
    .NP            (2),
    .VirtioDeviceId(virtio_ism_ep_pkg::VIRTIO_DEVICE_ID),
    .Queues        (virtio_ism_ep_pkg::QUEUES),
    .Vectors       (virtio_ism_ep_pkg::MSIX_VECTORS),
    .ChunkSlots    (virtio_ism_ep_pkg::CHUNKS_SLOTS)
  ) u_fw (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .fw_req_i    (fw_req),
    .fw_rsp_o    (fw_rsp),
    .push_i      (evt_push),
    .push_kind_i (evt_kind),
    .push_data_i (evt_data),
    .push_grant_o(evt_grant),
    .fw_irq_o    (fw_irq_o),
    .reg2hw_o    (fw_csr_reg2hw),
    .hw2reg_i    (fw_csr_hw2reg)
  );

  always_comb begin
    fw_csr_hw2reg = '0;  // ep_fw_port drives identity and event registers itself
    // What the description has, as the model reports it, although the mmio transport sends no MSI-X.
    fw_csr_hw2reg.drv_features.accepted.d = drv_features;
    fw_csr_hw2reg.drv_features.accepted.de = drv_features_de;
    fw_csr_hw2reg.device_status.status.d = device_status;
    fw_csr_hw2reg.device_status.status.de = device_status_de;
    fw_csr_hw2reg.q_max_size               = q_max_size;
    fw_csr_hw2reg.q_state                  = q_state;
    fw_csr_hw2reg.q_msix_vector            = q_msix_vector;
    fw_csr_hw2reg.q_desc                   = q_desc;
    fw_csr_hw2reg.q_driver                 = q_driver;
    fw_csr_hw2reg.q_device                 = q_device;
  end

endmodule

`default_nettype wire
